select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.order_month,
    o.amount,
    p.method as payment_method
from {{ ref('stg_orders') }} as o
left join {{ ref('stg_payments') }} as p on p.order_id = o.order_id
