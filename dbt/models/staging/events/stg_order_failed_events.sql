with source as (

    select * from {{ source('raw', 'order_failed_response') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        {{ event_common_columns() }}
        order_id,
        attempted_amount,
        payment_method,
        failure_reason,
        failed_at,
        _source_file,
        _loaded_at
    from source

),

final as (

    {{ dedupe_by_event_id('renamed') }}

)

select * from final
