{#- reads consent_history too (a sibling built from the same events): an asset check on
    customer_consent, the current consent that activation reads -#}
{{ config(meta={'dagster': {'ref': {'name': 'customer_consent'}}}) }}
-- a current grant must be the latest statement: no withdrawal at or after it
select
    consent.person_id,
    consent.channel,
    consent.purpose,
    consent.status_at,
    history.occurred_at as withdrawn_at
from {{ ref('customer_consent') }} as consent
inner join {{ ref('consent_history') }} as history
    on
        consent.person_id = history.person_id
        and consent.channel = history.channel
        and consent.purpose = history.purpose
where
    consent.is_granted
    and not history.is_granted
    and history.occurred_at >= consent.status_at
