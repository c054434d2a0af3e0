{#- The preference-centre events attached to persons through one kind of contact point
    (`email` or `phone`: int_contact_points_resolved), leaving out the events already attached
    by the CTEs named in `earlier`. -#}
{% macro preference_by_contact_point(contact_point_type, earlier) -%}
    select
        preference_events.consent_event_id,
        contact_points.person_id,
        contact_points.persons_count
    from preference_events
    inner join contact_points
        on
            contact_points.contact_point_type = '{{ contact_point_type }}'
            and preference_events.{{ contact_point_type }} = contact_points.contact_point_value
    where
        {%- for relation in earlier %}
        {{ 'and ' if not loop.first }}preference_events.consent_event_id not in (
            select {{ relation }}.consent_event_id from {{ relation }}
        )
        {%- endfor %}
{%- endmacro %}
