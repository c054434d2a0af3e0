{#- Survivorship configuration (var `survivorship`), validated at compile time.

    survivorship:
      source_trust: [shop_customer, pos_card, ...]     # most trusted first
      attributes:
        email: most_recent                             # a rule name, or
        name: {rule: most_trusted, source_trust: [clienteling, shop_customer]}

    Attributes and the record columns they carry are var `survivorship_attribute_columns`
    (chosen together from one record so that a name or an address is never stitched from
    two records). -#}

{#- Rank of a source system in a trust list (1 = most trusted, unknown sources last). -#}
{% macro trust_rank(column, trust) -%}
    case {{ column }}
        {%- for source_system in trust %}
        when '{{ source_system }}' then {{ loop.index }}
        {%- endfor %}
        else {{ trust | length + 1 }}
    end
{%- endmacro %}

{#- Unpivot: one row per (person, attribute, record with a value), with the rule and the
    trust rank of the record's system for that attribute. -#}
{% macro survivorship_candidates(graph, records) -%}
    {#- validate var `survivorship` and resolve each attribute's rule and trust order -#}
    {%- set config = var('survivorship') -%}
    {%- set fields = var('survivorship_attribute_columns') -%}
    {%- set known_rules = ['most_recent', 'most_trusted', 'most_frequent'] -%}
    {%- set default_trust = config.get('source_trust', []) -%}
    {%- set rules = {} -%}
    {%- for attribute, setting in config.get('attributes', {}).items() -%}
        {%- if attribute not in fields -%}
            {{ exceptions.raise_compiler_error(
                "var survivorship.attributes: unknown attribute '" ~ attribute
                ~ "' (known: " ~ fields.keys() | list | join(', ') ~ ")") }}
        {%- endif -%}
        {%- set rule = setting if setting is string else setting.get('rule') -%}
        {%- set trust = default_trust if setting is string else setting.get('source_trust', default_trust) -%}
        {%- if rule not in known_rules -%}
            {{ exceptions.raise_compiler_error(
                "var survivorship.attributes." ~ attribute ~ ": unknown rule '" ~ rule
                ~ "' (known: " ~ known_rules | join(', ') ~ ")") }}
        {%- endif -%}
        {%- do rules.update({attribute: {'rule': rule, 'source_trust': trust}}) -%}
    {%- endfor -%}
    {%- for attribute in fields if attribute not in rules -%}
        {{ exceptions.raise_compiler_error(
            "var survivorship.attributes: no rule for '" ~ attribute ~ "'") }}
    {%- endfor -%}
    {%- for attribute, columns in var('survivorship_attribute_columns').items() %}
    {%- set typed = [] -%}
    {%- for column in columns -%}
        {%- do typed.append('cast(' ~ records ~ '.' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') -%}
    {%- endfor %}
    select
        {{ graph }}.person_id,
        '{{ attribute }}' as attribute,
        {{ records }}.record_id,
        {{ records }}.source_system,
        {{ records }}.updated_at,
        lower(concat_ws('|', {{ typed | join(', ') }})) as attribute_value,
        '{{ rules[attribute].rule }}' as rule,
        {{ trust_rank(records ~ '.source_system', rules[attribute].source_trust) }} as trust_rank
    from {{ graph }}
    inner join {{ records }}
        on {{ graph }}.record_id = {{ records }}.record_id
    where coalesce({{ typed | join(', ') }}) is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Pivot of the winning rows (joined to their records): per attribute, the values of its
    columns, and <attribute>_record_id, _source and _updated_at. One join of the winning rows
    to the records, then one aggregation, both of which DuckDB can spill to disk; a join of the
    records per attribute held five hash tables of 5 million records at once at 1.4M
    customers, over a 2 GB memory limit. -#}
{% macro survivorship_winner_columns() -%}
    {%- for attribute, columns in var('survivorship_attribute_columns').items() %}
        {%- for column in columns %}
        max(case when attribute = '{{ attribute }}' then {{ column }} end) as {{ column }},
        {%- endfor %}
        max(case when attribute = '{{ attribute }}' then record_id end) as {{ attribute }}_record_id,
        max(case when attribute = '{{ attribute }}' then source_system end) as {{ attribute }}_source,
        max(case when attribute = '{{ attribute }}' then updated_at end) as {{ attribute }}_updated_at
        {{- "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The record columns the attributes carry, as a select list of ``relation``. -#}
{% macro survivorship_record_columns(relation) -%}
    {%- for columns in var('survivorship_attribute_columns').values() %}
        {%- for column in columns %}
        {{ relation }}.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The chosen values with their provenance, from the pivoted winners. -#}
{% macro survivorship_value_columns(winners) -%}
    {%- for attribute, columns in var('survivorship_attribute_columns').items() %}
        {%- for column in columns %}
        {{ winners }}.{{ column }},
        {%- endfor %}
        {{ winners }}.{{ attribute }}_source,
        {{ winners }}.{{ attribute }}_updated_at
        {{- "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
{#- What a person's golden row is chosen from: each (person, record) of the identity graph with
    the record's system, time and attribute columns (int_persons_golden compares them with the
    last run's to find the persons to choose again). `add_golden_input_columns(columns)` appends
    their names to the list `columns` (a list filled in place rather than returned, so that the
    models lint with plain Jinja too). -#}
{% macro add_golden_input_columns(columns) -%}
    {%- do columns.extend(['person_id', 'record_id', 'source_system', 'updated_at']) -%}
    {%- for attribute_columns in var('survivorship_attribute_columns').values() -%}
        {%- do columns.extend(attribute_columns) -%}
    {%- endfor -%}
{%- endmacro %}

{% macro golden_inputs() -%}
    {%- set columns = [] -%}
    {%- do add_golden_input_columns(columns) %}
    select
        graph.person_id,
        {%- for column in columns[1:] %}
        records.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ source('identity', 'identity_graph') }} as graph
    inner join {{ ref('int_identity_records_unioned') }} as records
        on graph.record_id = records.record_id
{%- endmacro %}
