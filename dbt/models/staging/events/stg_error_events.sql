with source as (

    select * from {{ source('raw', 'error_response') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        {{ event_common_columns() }}
        error_code,
        message as error_message,
        error_at,
        _source_file,
        _loaded_at
    from source

),

final as (

    {{ dedupe_by_event_id('renamed') }}

)

select * from final
