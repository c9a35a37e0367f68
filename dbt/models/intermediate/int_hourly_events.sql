{{ config(
    materialized='incremental',
    unique_key='event_hour',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['event_hour'], 'unique': True}],
) }}

-- All events per hour (UTC), kept additively: a run adds the events loaded after this model's
-- newest _loaded_at to their hours' counts (an event never changes once in fact_events), so it
-- reads the new events, not the hours they fall in. error_rates_hourly divides by these counts.
{%- if is_incremental() %}
{%- set since = newest_loaded_at(this) %}
{%- endif %}

with

added as (

    select event_hour, count(*) as events, max(_loaded_at) as _loaded_at
    from {{ ref('fact_events') }}
    {% if is_incremental() %}
    where _loaded_at > {{ since }}
    {% endif %}
    group by event_hour

),

totals as (

    {% if is_incremental() %}
    {{ add_to_kept(['event_hour'], ['events']) }}
    {% else %}
    select * from added
    {% endif %}

),

final as (

    select event_hour, events, _loaded_at
    from totals

)

select * from final
