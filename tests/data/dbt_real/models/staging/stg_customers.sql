select
    id as customer_id,
    first_name,
    last_name,
    cast(signup_date as {{ dbt.type_timestamp() }}) as signed_up_at
from {{ source('raw', 'customers') }}
