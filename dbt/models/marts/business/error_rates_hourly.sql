{{ config(
    materialized='incremental',
    unique_key=['event_hour', 'error_code'],
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['event_hour', 'error_code'], 'unique': True}],
) }}

-- Errors per hour and error code, against all events of that hour. Incremental and additive: the
-- error events loaded after this model's newest _loaded_at are added to their codes' counts, and
-- every row of an hour that got events takes the hour's new total from int_hourly_events; so a run
-- reads its new events and the rows of their hours, not the hours' events.
-- Why the bound is safe: a counted error's row has a _loaded_at at or after the error's own, so
-- every error up to the bound is counted, and none after it. An hour with no errors has no row: new
-- events there may leave the bound behind, which only makes a later run rewrite that hour's rows
-- again from the same totals.
{%- if is_incremental() %}
{%- set since = newest_loaded_at(this) %}
{%- endif %}

with

hours as (

    select event_hour, events, _loaded_at
    from {{ ref('int_hourly_events') }}
    {% if is_incremental() %}
    where _loaded_at > {{ since }}
    {% endif %}

),

new_errors as (

    select event_hour, error_code, count(*) as errors
    from {{ ref('fact_events') }}
    where event_type = 'error'
    {% if is_incremental() %}
        and _loaded_at > {{ since }}
    {% endif %}
    group by event_hour, error_code

),

counted as (

    select * from new_errors
    {% if is_incremental() %}
    union all
    -- The counts kept for the hours that got events, to add to and to divide by their new total.
    select kept.event_hour, kept.error_code, kept.errors
    from {{ this }} as kept
    where kept.event_hour in (select event_hour from hours)
    {% endif %}

),

errors as (

    select event_hour, error_code, sum(errors)::bigint as errors
    from counted
    group by event_hour, error_code

),

final as (

    select
        errors.event_hour,
        errors.error_code,
        errors.errors,
        hours.events,
        round(errors.errors::numeric / hours.events, 4) as error_rate,
        hours._loaded_at
    from errors
    join hours using (event_hour)

)

select * from final
