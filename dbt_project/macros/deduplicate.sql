{#- Keep one row per `partition_by`, the first by `order_by` (by default the latest version:
    latest updated_at, then latest dlt load); the helper column `_dedupe_rank` is left for the
    caller to drop. A window + filter, portable across adapters (no QUALIFY). -#}
{% macro deduplicate(relation, partition_by, order_by='updated_at desc nulls last, _dlt_load_id desc') -%}
    select *
    from (
        select
            _dedupe_source.*,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as _dedupe_rank
        from {{ relation }} as _dedupe_source
    ) as _deduped
    where _dedupe_rank = 1
{%- endmacro %}
