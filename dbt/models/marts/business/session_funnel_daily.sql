-- The session funnel per day (by the session's first event), with step-to-step conversion.
with sessions as (

    select * from {{ ref('fact_sessions') }}

),

counts as (

    select
        session_date,
        count(*) as sessions,
        count(*) filter (where searched) as searched,
        count(*) filter (where purchased) as purchased,
        count(*) filter (where ordered) as ordered,
        count(*) filter (where completed) as completed,
        count(*) filter (where failed) as failed
    from sessions
    group by session_date

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
        round(completed::numeric / nullif(sessions, 0), 4) as overall_conversion_rate
    from counts

)

select * from final
