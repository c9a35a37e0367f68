{{ config(
    materialized='incremental',
    unique_key='session_date',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['session_date'], 'unique': True}],
) }}

-- depends_on: {{ ref('fact_events') }}
-- The session funnel per day (by the session's first event), with step-to-step conversion.
-- Incremental and additive: a session that got new events leaves the steps (and the day) it had
-- before them and counts in those it has now. What it had before is computed from its events
-- loaded up to this model's newest _loaded_at (an event never changes once in fact_events), so a
-- run reads the events of the sessions it touched, not the days they fall in.
{%- if is_incremental() %}
{#- A table built before this model was incremental has no _loaded_at: '-infinity', and it is
    rebuilt whole (every session is new, the kept rows are replaced). -#}
{%- set since = newest_loaded_at(this) %}
{%- set adding = since != "'-infinity'::timestamptz" %}
{%- endif %}

with

now_steps as (

    select
        session_id, session_date, searched, purchased, ordered, completed, failed, _loaded_at,
        1 as sign
    from {{ ref('fact_sessions') }}
    {% if is_incremental() %}
    where _loaded_at > {{ since }}
    {% endif %}

),

{% if is_incremental() %}
earlier_events as (

    select
        events.session_id,
        (min(events.event_at) at time zone 'UTC')::date as session_date,
        {{ session_event_flags() }}
    from {{ ref('fact_events') }} as events
    where events.session_id in (select session_id from now_steps)
        and events._loaded_at <= {{ since }}
    group by events.session_id

),

earlier_steps as (

    -- The same sessions as this model counted them last time, taken back out.
    select
        session_id, session_date,
        {{ session_funnel_steps() }},
        null::timestamptz as _loaded_at,
        -1 as sign
    from earlier_events

),
{% endif %}

changes as (

    select * from now_steps
    {% if is_incremental() %}
    union all
    select * from earlier_steps
    {% endif %}

),

added as (

    select
        session_date,
        sum(sign) as sessions,
        coalesce(sum(sign) filter (where searched), 0) as searched,
        coalesce(sum(sign) filter (where purchased), 0) as purchased,
        coalesce(sum(sign) filter (where ordered), 0) as ordered,
        coalesce(sum(sign) filter (where completed), 0) as completed,
        coalesce(sum(sign) filter (where failed), 0) as failed,
        max(_loaded_at) as _loaded_at
    from changes
    group by session_date

),

totals as (

    {% if is_incremental() and adding %}
    {{ add_to_kept(
        ['session_date'],
        ['sessions', 'searched', 'purchased', 'ordered', 'completed', 'failed'],
    ) }}
    {% else %}
    select * from added
    {% endif %}

),

final as (

    select
        session_date,
        sessions,
        searched,
        purchased,
        ordered,
        completed,
        failed,
        round(purchased::numeric / nullif(searched, 0), 4) as search_to_purchase_rate,
        round(ordered::numeric / nullif(purchased, 0), 4) as purchase_to_order_rate,
        round(completed::numeric / nullif(ordered, 0), 4) as order_completion_rate,
        round(completed::numeric / nullif(sessions, 0), 4) as overall_conversion_rate,
        _loaded_at
    from totals

)

select * from final
