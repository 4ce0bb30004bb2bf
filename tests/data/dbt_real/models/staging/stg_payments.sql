select
    id as payment_id,
    order_id,
    method,
    {{ shop_utils.surrogate_key(['id', 'order_id']) }} as payment_key,
    {{ cents_to_dollars('amount_cents', 4) }} as amount
from {{ source('raw', 'payments') }}
