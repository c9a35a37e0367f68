with source as (

    select * from {{ source('raw', 'search_response') }}
    {{ loaded_since_last_run() }}

),

renamed as (

    select
        {{ event_common_columns() }}
        query as search_query,
        results_count,
        filters,
        searched_at,
        _source_file,
        _loaded_at
    from source

),

final as (

    {{ dedupe_by_event_id('renamed') }}

)

select * from final
