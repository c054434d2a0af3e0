{#- Normalisation helpers. The e-mail, phone and name functions are Python UDFs registered
    by the dbt-duckdb plugin `plugins/cdp_udfs.py` from `cdp.normalize`, so SQL and the
    identity engine share one implementation. -#}

{% macro normalize_email(column) -%}
    cdp_normalize_email({{ clean_text(column) }})
{%- endmacro %}

{% macro normalize_phone(column, region=none) -%}
    cdp_normalize_phone(
        {{ clean_text(column) }},
        {{ region if region is not none else "'" ~ var('default_phone_region') ~ "'" }}
    )
{%- endmacro %}

{#- Display form of a person name: accents kept, spaces collapsed, ALL CAPS title-cased. -#}
{% macro display_name(column) -%}
    cdp_display_name({{ clean_text(column) }})
{%- endmacro %}

{#- Match key of a name: folded (no accents, lower case, punctuation removed). -#}
{% macro fold_name(column) -%}
    cdp_fold_name({{ clean_text(column) }})
{%- endmacro %}

{#- True when the normalised e-mail is a placeholder typed to get past a mandatory field: on
    the identity blocklist of config/identity.yaml (UDF cdp_is_placeholder, the identity
    engine's rule). Kept and flagged, never used for matching. -#}
{% macro is_placeholder_email(column) -%}
    coalesce(cdp_is_placeholder({{ column }}, 'email'), false)
{%- endmacro %}

{#- True when the E.164 phone is a placeholder (same blocklist). -#}
{% macro is_placeholder_phone(column) -%}
    coalesce(cdp_is_placeholder({{ column }}, 'phone'), false)
{%- endmacro %}

{#- First street line for display: abbreviations of street types expanded and house-number
    repeaters written out (`12b, Bd St-Michel` -> `12 bis boulevard Saint-Michel`), case and
    accents kept. Same abbreviation table as the identity engine (cdp.normalize). Further
    lines ("Apt 3", "Bâtiment B") vary between systems for one address: `street_complement`. -#}
{% macro normalize_street(column) -%}
    cdp_display_street({{ clean_text(column) }})
{%- endmacro %}

{#- Street lines after the first, joined with ", " (null when none). -#}
{% macro street_complement(column) -%}
    nullif(trim(regexp_replace(
        substr({{ clean_text(column) }}, length(split_part({{ clean_text(column) }}, chr(10), 1)) + 2),
        '\s*\n\s*', ', ', 'g')), '')
{%- endmacro %}

{#- Comparison key of a street (cdp.normalize.normalize_street): folded, lower case,
    abbreviations expanded, first line only. -#}
{% macro address_key(column) -%}
    cdp_street_key({{ column }})
{%- endmacro %}

{#- Postcode: spaces removed, upper case; a French postcode that lost its leading zero in a
    spreadsheet (4 digits) is padded back. -#}
{% macro normalize_postcode(column, country="'FR'") -%}
    case
        when regexp_full_match(upper(replace({{ clean_text(column) }}, ' ', '')), '\d{4}(\.0+)?')
            and coalesce({{ country }}, '{{ var("default_country") }}') = 'FR'
            then lpad(split_part(upper(replace({{ clean_text(column) }}, ' ', '')), '.', 1), 5, '0')
        else upper(replace({{ clean_text(column) }}, ' ', ''))
    end
{%- endmacro %}

{#- City for display: upper case, no accents, hyphens and apostrophes as spaces, `ST`/`STE`
    expanded, CEDEX and arrondissement numbers removed (`Paris 2e`, `LYON CEDEX 03`). -#}
{% macro normalize_city(column) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        upper(strip_accents({{ clean_text(column) }})),
        '[-''’.]', ' ', 'g'),
        '\s+(CEDEX(\s*\d+)?|\d{1,2}\s*(E|ER|EME))$', '', 'g'),
        '(^|\s)(ST)(\s)', '\1SAINT\3', 'g'),
        '(^|\s)(STE)(\s)', '\1SAINTE\3', 'g')), '')
{%- endmacro %}

{#- Country to ISO 3166-1 alpha-2 (codes kept, common French and English names mapped). -#}
{% macro normalize_country(column) -%}
    case upper(strip_accents({{ clean_text(column) }}))
        when 'FRANCE' then 'FR'
        when 'BELGIQUE' then 'BE'
        when 'BELGIUM' then 'BE'
        when 'SUISSE' then 'CH'
        when 'SWITZERLAND' then 'CH'
        when 'ALLEMAGNE' then 'DE'
        when 'GERMANY' then 'DE'
        when 'ESPAGNE' then 'ES'
        when 'SPAIN' then 'ES'
        when 'ITALIE' then 'IT'
        when 'ITALY' then 'IT'
        when 'LUXEMBOURG' then 'LU'
        when 'ROYAUME UNI' then 'GB'
        when 'ROYAUME-UNI' then 'GB'
        when 'UNITED KINGDOM' then 'GB'
        when 'UK' then 'GB'
        else upper(strip_accents({{ clean_text(column) }}))
    end
{%- endmacro %}

{#- Comma-separated list of the issue codes whose condition holds, null when none.
    `checks` is a list of (code, condition) pairs. -#}
{% macro issue_list(checks) -%}
    nullif(concat_ws(', ',
        {%- for code, condition in checks %}
        case when {{ condition }} then '{{ code }}' end{{ "," if not loop.last }}
        {%- endfor %}
    ), '')
{%- endmacro %}

{#- Loyalty card number: upper case, separators removed, `LC` + 8 digits when the digits were
    typed without their leading zeros (`lc 12345` -> `LC00012345`). -#}
{% macro normalize_card_id(column) -%}
    case
        when regexp_full_match(upper(regexp_replace({{ clean_text(column) }}, '[\s.-]', '', 'g')), 'LC\d{1,8}')
            then 'LC' || lpad(substr(upper(regexp_replace({{ clean_text(column) }}, '[\s.-]', '', 'g')), 3), 8, '0')
        else upper(regexp_replace({{ clean_text(column) }}, '[\s.-]', '', 'g'))
    end
{%- endmacro %}

{#- Y/N, yes/no, true/false, 1/0 text to a boolean (null when anything else). -#}
{% macro text_to_bool(column) -%}
    case
        when lower({{ clean_text(column) }}) in ('y', 'yes', 'o', 'oui', 'true', 't', '1') then true
        when lower({{ clean_text(column) }}) in ('n', 'no', 'non', 'false', 'f', '0') then false
    end
{%- endmacro %}

{#- The normalised person fields of a staging model, under the names the identity models read:
    `email`, `phone`, `first_name`, `last_name`, `first_name_key`, `last_name_key`,
    `birth_date`, `street`, `postcode`, `city` (one for each raw column or expression given).
    `country` is the column that decides the phone region and the postcode rules. -#}
{% macro person_fields(
    email=none, phone=none, first_name=none, last_name=none, birth_date=none,
    street=none, postcode=none, city=none, country=none
) -%}
    {%- set fields = [] -%}
    {%- if email %}{% do fields.append(normalize_email(email) ~ ' as email') %}{% endif -%}
    {%- if phone %}{% do fields.append(normalize_phone(phone, country) ~ ' as phone') %}{% endif -%}
    {%- if first_name %}{% do fields.append(display_name(first_name) ~ ' as first_name') %}{% endif -%}
    {%- if last_name %}{% do fields.append(display_name(last_name) ~ ' as last_name') %}{% endif -%}
    {%- if first_name %}{% do fields.append(fold_name(first_name) ~ ' as first_name_key') %}{% endif -%}
    {%- if last_name %}{% do fields.append(fold_name(last_name) ~ ' as last_name_key') %}{% endif -%}
    {%- if birth_date -%}
        {%- do fields.append(parse_birth_date(birth_date) ~ ' as birth_date') -%}
    {%- endif -%}
    {%- if street %}{% do fields.append(normalize_street(street) ~ ' as street') %}{% endif -%}
    {%- if postcode -%}
        {%- do fields.append(
            (normalize_postcode(postcode, country) if country else normalize_postcode(postcode))
            ~ ' as postcode'
        ) -%}
    {%- endif -%}
    {%- if city %}{% do fields.append(normalize_city(city) ~ ' as city') %}{% endif -%}
    {{ fields | join(',\n        ') }}
{%- endmacro %}
