{#- The columns every event table shares, typed and renamed the same way in each staging model. -#}
{% macro event_common_columns() %}
        event_id,
        schema_version,
        "timestamp" as event_at,
        level,
        service,
        event_type,
        user_id,
        session_id,
        product_id,
        session_duration as session_duration_s,
        device_type,
        geo_country as country,
        geo_city as city,
{%- endmacro %}
