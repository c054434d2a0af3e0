{#- reads identity.identity_graph too: an asset check on customer_360, the downstream one -#}
{{ config(meta={'dagster': {'ref': {'name': 'customer_360'}}}) }}
-- one customer_360 row for every person of the identity graph
select graph.person_id
from (
    select distinct person_id from {{ source('identity', 'identity_graph') }}
) as graph
left join {{ ref('customer_360') }} as customers
    on graph.person_id = customers.person_id
where customers.person_id is null
