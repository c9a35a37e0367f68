with source as (

    select * from {{ source('raw', 'purchase_response') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        {{ event_common_columns() }}
        order_id,
        amount,
        payment_method,
        items,
        shipping_address,
        _source_file,
        _loaded_at
    from source

),

final as (

    {{ dedupe_by_event_id('renamed') }}

)

select * from final
