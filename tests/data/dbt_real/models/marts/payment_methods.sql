select method, count(*) as payments
from {{ ref('order_lines') }}
group by method
