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

{#- True when the normalised e-mail matches one of the `placeholder_email_patterns`. -#}
{% macro is_placeholder_email(column) -%}
    coalesce(
        {%- for pattern in var('placeholder_email_patterns') %}
        regexp_matches({{ column }}, '{{ pattern }}'){{ " or" if not loop.last }}
        {%- endfor %},
        false
    )
{%- endmacro %}

{#- True when the E.164 phone matches one of the `placeholder_phone_patterns`. -#}
{% macro is_placeholder_phone(column) -%}
    coalesce(
        {%- for pattern in var('placeholder_phone_patterns') %}
        regexp_matches({{ column }}, '{{ pattern }}'){{ " or" if not loop.last }}
        {%- endfor %},
        false
    )
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
