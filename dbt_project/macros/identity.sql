{#- The inputs of the identity engine, one select per source read from a declared list
    (models/intermediate/identity): each source says which person fields it has and under
    which names; the macros write the select in the one column order the engine reads. -#}

{#- `select * from a union all select * from b ...` over the named relations (CTEs). -#}
{% macro union_all(relations) -%}
    {%- for relation in relations %}
    select * from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- One union of the selects that the macro `select` writes for each argument set of `specs`
    (a declared list: the sources of `identity_record`, the keys of `identity_identifier`). -#}
{% macro union_each(select, specs) -%}
    {%- for spec in specs %}
    {{ select(**spec) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- One source's identity records: `source_system`, `source_key` (an expression), the person
    fields the source `has` (`names` stands for the four name columns, `address` for street,
    postcode, city and country; a field it lacks is a typed null), `columns` mapping a field
    (or `is_placeholder_email` / `is_placeholder_phone`) to the source's own expression, and
    `updated_at`. A placeholder e-mail or phone, and a store's generic e-mail when
    `store_email`, are blanked: they must never link two people. -#}
{% macro identity_record(
    source_system, relation, source_key, has, columns={}, updated_at='updated_at',
    store_email=false, where=none
) -%}
    {%- set present = [] -%}
    {%- for field in has -%}
        {%- if field == 'names' -%}
            {%- do present.extend(['first_name', 'last_name', 'first_name_key', 'last_name_key']) -%}
        {%- elif field == 'address' -%}
            {%- do present.extend(['street', 'postcode', 'city', 'country']) -%}
        {%- else -%}
            {%- do present.append(field) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- the person fields of an identity record, in the engine's order, with their types -#}
    {%- set fields = [
        ('first_name', dbt.type_string()), ('last_name', dbt.type_string()),
        ('first_name_key', dbt.type_string()), ('last_name_key', dbt.type_string()),
        ('email', dbt.type_string()), ('phone', dbt.type_string()), ('birth_date', 'date'),
        ('street', dbt.type_string()), ('postcode', dbt.type_string()),
        ('city', dbt.type_string()), ('country', dbt.type_string()),
    ] -%}
    {%- set placeholder_email = columns.get('is_placeholder_email', 'is_placeholder_email') -%}
    {%- set placeholder_phone = columns.get('is_placeholder_phone', 'is_placeholder_phone') %}
    select
        '{{ source_system }}' as source_system,
        {{ source_key }} as source_key,
        {%- for field, type in fields %}
        {%- set value = columns.get(field, field) %}
        {%- if field not in present %}
        cast(null as {{ type }}) as {{ field }},
        {%- elif field == 'email' %}
        case when not {{ '(' ~ placeholder_email ~ ' or is_store_email)' if store_email else placeholder_email }}
            then {{ value }} end as email,
        {%- elif field == 'phone' %}
        case when not {{ placeholder_phone }} then {{ value }} end as phone,
        {%- else %}
        {{ value }}{{ ' as ' ~ field if value != field }},
        {%- endif %}
        {%- endfor %}
        {{ updated_at }}{{ ' as updated_at' if updated_at != 'updated_at' }}
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}

{#- One kind of exact key of one source's records: `record_id` = '<source_system>:<key>',
    `id_type`, and `id_value` (an expression, the key itself when none). -#}
{% macro identity_identifier(source_system, relation, source_key, id_type, id_value=none, where=none) -%}
    select
        '{{ source_system }}:' || {{ source_key }} as record_id,
        '{{ id_type }}' as id_type,
        {{ id_value if id_value else source_key }} as id_value
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}

{#- `id_type` and `id_value` of a shop order (`orders` names the relation): its customer's id,
    or the order itself for a guest order. -#}
{% macro order_identifier(orders) -%}
    case
        when {{ orders }}.customer_id is not null then 'shop_customer_id'
        else 'shop_order_id'
    end as id_type,
    coalesce(cast({{ orders }}.customer_id as {{ dbt.type_string() }}), {{ orders }}.increment_id)
        as id_value
{%- endmacro %}

{#- The import of the identity graph as the marts read it: which person each record is. -#}
{% macro identity_graph_links() -%}
    select
        record_id,
        person_id
    from {{ source('identity', 'identity_graph') }}
{%- endmacro %}
