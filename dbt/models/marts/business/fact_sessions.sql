{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['session_id'], 'unique': True},
        {'columns': ['_loaded_at']},
        {'columns': ['session_date']},
    ],
) }}

-- One row per browsing session with how far it went in the funnel. Incremental: the sessions that
-- got new events are recomputed from all their events.
with

events as (

    select * from {{ ref('fact_events') }}
    {{ only_touched(ref('fact_events'), 'session_id') }}

),

per_session as (

    select
        session_id,
        min(user_id) as user_id,
        min(device_type) as device_type,
        min(country) as country,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as events,
        {{ session_event_flags() }},
        coalesce(sum(amount) filter (where event_type = 'order_complete'), 0) as revenue,
        max(_loaded_at) as _loaded_at
    from events
    group by session_id

),

final as (

    -- Each step requires the ones before it, so the funnel can only narrow.
    select
        session_id,
        user_id,
        device_type,
        country,
        started_at,
        (started_at at time zone 'UTC')::date as session_date,
        ended_at,
        events,
        {{ session_funnel_steps() }},
        revenue,
        _loaded_at
    from per_session

)

select * from final
