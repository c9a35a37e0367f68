{#- The incremental filter: rows loaded since the newest row already in this model, minus the
    lookback window. An indexed range on the loaded-at column, never `not in` over the table. -#}
{% macro loaded_since_last_run(column='_loaded_at') %}
  {%- if is_incremental() %}
    where {{ column }} > (
      select coalesce(max({{ column }}), '-infinity'::timestamptz) - interval '{{ var("lookback_minutes") }} minutes'
      from {{ this }}
    )
  {%- endif %}
{% endmacro %}
