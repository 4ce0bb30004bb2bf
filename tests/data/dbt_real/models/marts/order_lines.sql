select {{ shop_utils.star(ref('stg_payments'), except=['payment_key']) }}
from {{ ref('stg_payments') }}
