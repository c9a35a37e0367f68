{#- One row per event_id, the most recently loaded copy. -#}
{% macro dedupe_by_event_id(relation) %}
    select distinct on (event_id) *
    from {{ relation }}
    order by event_id, _loaded_at desc
{% endmacro %}
