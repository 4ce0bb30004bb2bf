{{ config(materialized='view') }}
-- built into {{ this }} as a {{ config.get('materialized') }} on {{ target.name }}
select
    id as order_id,
    customer_id,
    cast(order_date as date) as order_date,
    {{ status_label('status') }} as status_label,
    status,
    {{ cents_to_dollars('amount_cents') }} as amount,
    {{ dbt.date_trunc('month', 'cast(order_date as date)') }} as order_month
from {{ source('raw', 'orders') }}
where cast(order_date as date) >= cast('{{ var("start_date") }}' as date)
