{#- Recency, frequency, monetary scores of every person with at least one purchase, as of the
    latest order date in the data (reference_date; not today, so that a rebuild gives the same
    scores). Each score is the quintile (ntile(5)) of the person among buyers, 5 = best: most
    recent, most purchases, highest revenue. Ties inside a measure are broken by the other
    measures, then by person_id, so scores are deterministic.

    Segments follow the standard R x FM grid, FM = (F + M) / 2 rounded half up:

        R \ FM   1               2               3               4          5
        5        new_customers   potential_loyalist              champions
        4        promising       potential_loyalist              loyal
        3        about_to_sleep  about_to_sleep  need_attention  loyal
        2        hibernating     hibernating     at_risk         at_risk    cannot_lose
        1        lost            hibernating     at_risk         at_risk    cannot_lose -#}

with

buyers as (
    select
        person_id,
        last_order_at,
        orders_count,
        revenue_total
    from {{ ref('int_persons_orders_aggregated') }}
    where orders_count > 0
),

reference as (
    select cast(max(ordered_at) as date) as reference_date
    from {{ ref('orders') }}
),

measures as (
    select
        buyers.person_id,
        reference.reference_date,
        {{ dbt.datediff('cast(buyers.last_order_at as date)', 'reference.reference_date', 'day') }}
            as recency_days,
        buyers.orders_count as frequency,
        buyers.revenue_total as monetary
    from buyers
    cross join reference
),

scored as (
    select
        *,
        ntile(5) over (order by recency_days desc, frequency asc, monetary asc, person_id asc) as r_score,
        ntile(5) over (order by frequency asc, monetary asc, recency_days desc, person_id asc) as f_score,
        ntile(5) over (order by monetary asc, frequency asc, recency_days desc, person_id asc) as m_score
    from measures
),

with_fm as (
    select
        *,
        -- (f + m) / 2 rounded half up
        cast(floor((f_score + m_score + 1) / 2) as {{ dbt.type_int() }}) as fm_score
    from scored
),

segmented as (
    select
        *,
        case
            when r_score = 5 and fm_score = 1 then 'new_customers'
            when r_score = 4 and fm_score = 1 then 'promising'
            when r_score >= 4 and fm_score in (2, 3) then 'potential_loyalist'
            when r_score = 5 and fm_score >= 4 then 'champions'
            when r_score in (3, 4) and fm_score >= 4 then 'loyal'
            when r_score = 3 and fm_score = 3 then 'need_attention'
            when r_score = 3 and fm_score <= 2 then 'about_to_sleep'
            when r_score <= 2 and fm_score = 5 then 'cannot_lose'
            when r_score <= 2 and fm_score in (3, 4) then 'at_risk'
            when r_score = 1 and fm_score = 1 then 'lost'
            else 'hibernating'
        end as rfm_segment
    from with_fm
),

final as (
    select
        person_id,
        reference_date,
        cast(recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(frequency as {{ dbt.type_int() }}) as frequency,
        cast(monetary as decimal(18, 2)) as monetary,
        cast(r_score as {{ dbt.type_int() }}) as r_score,
        cast(f_score as {{ dbt.type_int() }}) as f_score,
        cast(m_score as {{ dbt.type_int() }}) as m_score,
        fm_score,
        rfm_segment
    from segmented
)

select * from final
