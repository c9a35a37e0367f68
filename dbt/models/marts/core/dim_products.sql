-- One row per version of a product's price and stock, from the snapshot. The first version of a
-- product is valid from the beginning of time, so events older than the first snapshot still find
-- the price of that day's catalog. Products seen in events but not in the catalog get an inferred
-- member, so every fact joins.
with snapshot as (

    select * from {{ ref('products_snapshot') }}

),

versions as (

    select
        product_id,
        row_number() over (partition by product_id order by dbt_valid_from) as version,
        name as product_name,
        category,
        subcategory,
        brand,
        price,
        stock,
        rating,
        {{ utc('dbt_valid_from') }} as snapshot_valid_from,
        {{ utc('dbt_valid_to') }} as valid_to
    from snapshot

),

seen as (

    select entity_id as product_id from {{ ref('int_entities_seen') }} where entity = 'product'

),

final as (

    select
        product_id || '#' || version as product_version_key,
        product_id,
        version,
        product_name,
        category,
        subcategory,
        brand,
        price,
        stock,
        rating,
        case when version = 1 then '1970-01-01'::timestamptz else snapshot_valid_from end as valid_from,
        valid_to,
        valid_to is null as is_current,
        true as is_known
    from versions

    union all

    select
        seen.product_id || '#1' as product_version_key,
        seen.product_id,
        1 as version,
        null as product_name,
        'Unknown' as category,
        null as subcategory,
        null as brand,
        null::numeric as price,
        null::int as stock,
        null::numeric as rating,
        '1970-01-01'::timestamptz as valid_from,
        null::timestamptz as valid_to,
        true as is_current,
        false as is_known
    from seen
    where seen.product_id is not null
      and not exists (select 1 from versions where versions.product_id = seen.product_id)

)

select * from final
