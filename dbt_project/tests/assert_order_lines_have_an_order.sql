{#- reads only staging (the four models below): an asset check on stg_shop__order_items, so
    it runs in the staging step with all its parents selected. Attached to order_lines
    instead, dbt's eager indirect selection would also run it in the staging step, where
    Dagster can only log an observation. warn: never blocking -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_shop__order_items'}}}) }}
-- source lines whose order or receipt is unknown are left out of order_lines: report them
select
    'web' as channel,
    cast(items.order_item_id as {{ dbt.type_string() }}) as line_id
from {{ ref('stg_shop__order_items') }} as items
left join {{ ref('stg_shop__orders') }} as shop_orders
    on items.order_id = shop_orders.order_id
where shop_orders.order_id is null or shop_orders.increment_id is null
union all
select
    'store' as channel,
    lines.receipt_line_id as line_id
from {{ ref('stg_pos__receipt_lines') }} as lines
left join {{ ref('stg_pos__receipts') }} as receipts
    on lines.receipt_id = receipts.receipt_id
where receipts.receipt_id is null
