select
    1 as row_version,
    order_id
from {{ ref('stg_orders') }}
