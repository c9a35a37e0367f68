with source as (

    select * from {{ source('raw', 'users') }}

),

final as (

    select
        user_id,
        username,
        email,
        full_name,
        first_name,
        last_name,
        sex,
        age,
        country,
        city,
        signup_date,
        _loaded_at
    from source

)

select * from final
