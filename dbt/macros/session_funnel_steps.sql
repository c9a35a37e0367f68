{#- A session's funnel, in two parts that fact_sessions and session_funnel_daily share: what its
    events did (aggregates over the session's fact_events rows), then the steps it reached, each
    step requiring the ones before it so that the funnel can only narrow. -#}
{% macro session_event_flags() %}
        bool_or(event_type = 'search') as has_search,
        bool_or(event_type = 'purchase') as has_purchase,
        bool_or(event_type = 'order_complete') as has_completed,
        bool_or(event_type = 'order_failed') as has_failed
{%- endmacro %}

{% macro session_funnel_steps() %}
        has_search as searched,
        has_search and has_purchase as purchased,
        has_search and has_purchase and (has_completed or has_failed) as ordered,
        has_search and has_purchase and has_completed as completed,
        has_search and has_purchase and has_failed and not has_completed as failed
{%- endmacro %}
