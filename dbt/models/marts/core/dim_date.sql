-- A date spine over a fixed range (vars date_spine_start, date_spine_end), so that it is the same
-- after a full refresh and after any series of incremental runs.
with days as (

    select generate_series(
        '{{ var("date_spine_start") }}'::date,
        '{{ var("date_spine_end") }}'::date,
        interval '1 day'
    )::date as date_day

),

final as (

    select
        date_day,
        extract(year from date_day)::int as year,
        extract(quarter from date_day)::int as quarter,
        extract(month from date_day)::int as month,
        extract(week from date_day)::int as week,
        extract(day from date_day)::int as day,
        trim(to_char(date_day, 'Day')) as weekday,
        extract(isodow from date_day) in (6, 7) as is_weekend
    from days

)

select * from final
