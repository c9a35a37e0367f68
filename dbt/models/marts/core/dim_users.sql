-- Users from the catalog, plus an inferred member for every user id seen in events but missing
-- from the catalog (events of the original system, other services), so every fact joins.
with catalog as (

    select * from {{ ref('stg_users') }}

),

seen as (

    select entity_id as user_id from {{ ref('int_entities_seen') }} where entity = 'user'

),

inferred as (

    select seen.user_id
    from seen
    left join catalog using (user_id)
    where catalog.user_id is null

),

final as (

    select
        user_id,
        username,
        email,
        full_name,
        sex,
        age,
        country,
        city,
        signup_date,
        true as is_known
    from catalog

    union all

    select
        user_id,
        null as username,
        null as email,
        null as full_name,
        null as sex,
        null::int as age,
        null as country,
        null as city,
        null::date as signup_date,
        false as is_known
    from inferred

)

select * from final
