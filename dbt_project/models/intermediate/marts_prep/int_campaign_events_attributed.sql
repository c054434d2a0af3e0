{#- ESP campaign events (e-mail and SMS) with the person of their contact, joined to the
    identity graph once for the timeline, engagement and consent models. Events of contacts
    absent from the graph are left out; a campaign missing from the catalogue counts as
    e-mail, the platform's default channel. -#}

with

identity_graph as (
    {{ identity_graph_links() }}
),

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

esp_campaigns as (
    select
        campaign_id,
        channel
    from {{ ref('stg_esp__campaigns') }}
),

final as (
    select
        esp_events.event_id,
        identity_graph.person_id,
        esp_events.campaign_id,
        coalesce(esp_campaigns.channel, 'email') as channel,
        esp_events.event_type,
        esp_events.occurred_at
    from esp_events
    inner join identity_graph
        on 'esp_contact:' || esp_events.contact_id = identity_graph.record_id
    left join esp_campaigns
        on esp_events.campaign_id = esp_campaigns.campaign_id
)

select * from final
