{#- Building blocks of the staging models, each written once here and read by every model, so
    that a staging model declares only its own columns: the import of the kept raw rows, the
    raw person fields, and the person columns and issue codes of the final select. -#}

{#- The body of a staging model's import CTE: the raw table without its quarantined rows and,
    for a child table, without the rows whose parent row (`parent`, joined on the child's
    `parent_id` = the parent's `parent_key`) is quarantined. -#}
{% macro staging_source(source_name, table_name, parent=none, parent_id=none, parent_key=none) -%}
    select * from {{ source(source_name, table_name) }}
    where
        {{ exclude_quarantined('raw_' ~ source_name, table_name) }}
        {%- if parent %}
        and {{ exclude_quarantined('raw_' ~ source_name, parent, parent_id, parent_key=parent_key) }}
        {%- endif %}
{%- endmacro %}

{#- The person fields of a raw table, cleaned and named `<field>_raw`, the inputs of
    `person_fields` and of the issue checks: each argument names the raw column of the field. -#}
{% macro raw_person_fields(
    first_name=none, last_name=none, email=none, phone=none, birth_date=none,
    street=none, postcode=none, city=none
) -%}
    {%- set fields = [] -%}
    {%- for field, column in [
        ('first_name', first_name), ('last_name', last_name), ('email', email),
        ('phone', phone), ('birth_date', birth_date), ('street', street),
        ('postcode', postcode), ('city', city),
    ] if column -%}
        {%- do fields.append(clean_text(column) ~ ' as ' ~ field ~ '_raw') -%}
    {%- endfor -%}
    {{ fields | join(',\n        ') }}
{%- endmacro %}

{#- The person columns of a staging model's final select, group by group in the order given:
    `names` (first and last name and their match keys), `email` and `phone` (each followed by
    its placeholder flag), `birth_date`, `address` (street and its key, postcode, city,
    country). `prefix` qualifies the columns (`normalised.`). -#}
{% macro person_columns(groups, prefix='') -%}
    {%- set columns = [] -%}
    {%- for group in groups -%}
        {%- if group == 'names' -%}
            {%- for name in ['first_name', 'last_name', 'first_name_key', 'last_name_key'] -%}
                {%- do columns.append(prefix ~ name) -%}
            {%- endfor -%}
        {%- elif group == 'email' -%}
            {%- do columns.append(prefix ~ 'email') -%}
            {%- do columns.append(is_placeholder_email(prefix ~ 'email') ~ ' as is_placeholder_email') -%}
        {%- elif group == 'phone' -%}
            {%- do columns.append(prefix ~ 'phone') -%}
            {%- do columns.append(is_placeholder_phone(prefix ~ 'phone') ~ ' as is_placeholder_phone') -%}
        {%- elif group == 'birth_date' -%}
            {%- do columns.append(prefix ~ 'birth_date') -%}
        {%- elif group == 'address' -%}
            {%- do columns.append(prefix ~ 'street') -%}
            {%- do columns.append(address_key(prefix ~ 'street') ~ ' as street_key') -%}
            {%- for name in ['postcode', 'city', 'country'] -%}
                {%- do columns.append(prefix ~ name) -%}
            {%- endfor -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error('person_columns: unknown group ' ~ group) }}
        {%- endif -%}
    {%- endfor -%}
    {{ columns | join(',\n        ') }}
{%- endmacro %}

{#- The (code, condition) pairs of `issue_list` for the person fields, group by group in the
    order given: `email` (invalid, placeholder), `phone` (invalid, placeholder), `birth_date`
    (invalid). `prefix` qualifies the columns. -#}
{% macro person_issues(groups, prefix='') -%}
    {%- set checks = [] -%}
    {%- for group in groups -%}
        {%- if group == 'birth_date' -%}
            {%- do checks.append(('invalid_birth_date',
                prefix ~ 'birth_date_raw is not null and ' ~ prefix ~ 'birth_date is null')) -%}
        {%- elif group in ('email', 'phone') -%}
            {%- do checks.append(('invalid_' ~ group,
                prefix ~ group ~ '_raw is not null and ' ~ prefix ~ group ~ ' is null')) -%}
            {%- do checks.append(('placeholder_' ~ group, is_placeholder_email(prefix ~ group)
                if group == 'email' else is_placeholder_phone(prefix ~ group))) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error('person_issues: unknown group ' ~ group) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}
