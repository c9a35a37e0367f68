{#- The incremental filter: rows whose `column` is newer than the newest _loaded_at already in this
    model, minus the lookback window. An indexed range, never `not in` over the table. -#}
{% macro loaded_since_last_run(column='_loaded_at') %}
  {%- if is_incremental() %}
    where {{ column }} > (
      select coalesce(max(_loaded_at), '-infinity'::timestamptz) - interval '{{ var("lookback_minutes") }} minutes'
      from {{ this }}
    )
  {%- endif %}
{% endmacro %}
