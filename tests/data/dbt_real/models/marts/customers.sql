with orders as (
    select * from {{ ref('orders') }}
),

per_customer as (
    select
        customer_id,
        count(*) as number_of_orders,
        sum(amount) as lifetime_value,
        min(order_date) as first_order
    from orders
    group by 1
)

select
    c.customer_id,
    {{ dbt.concat(["c.first_name", "' '", "c.last_name"]) }} as full_name,
    c.signed_up_at,
    coalesce(p.number_of_orders, 0) as number_of_orders,
    coalesce(p.lifetime_value, 0) as lifetime_value,
    p.first_order,
    coalesce(p.lifetime_value, 0) >= {{ var('vip_threshold') }} as is_vip,
    '{{ var("currency") }}' as currency,
    '{{ target.type }}' as warehouse
from {{ ref('stg_customers') }} as c
left join per_customer as p on p.customer_id = c.customer_id
