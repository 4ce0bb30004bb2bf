with unioned as (
    {{ shop_utils.union_tables([ref('stg_orders'), ref('stg_orders')]) }}
)

select * from unioned
