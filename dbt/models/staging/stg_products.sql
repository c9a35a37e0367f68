with source as (

    select * from {{ source('raw', 'products') }}

),

final as (

    select
        product_id,
        name as product_name,
        category,
        subcategory,
        brand,
        description,
        price,
        stock,
        rating,
        date_added,
        weight,
        _loaded_at
    from source

)

select * from final
