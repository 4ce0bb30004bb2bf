select
    {{ dbt.date_trunc('month', 'order_date') }} as month_start,
    {{ dbt.dateadd('day', 30, 'min(order_date)') }} as first_due,
    count(*) as orders,
    cast('{{ run_started_at.strftime("%Y-%m-%d") }}' as date) as built_on
from {{ ref('orders') }}
group by 1
