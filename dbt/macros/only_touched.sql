{#- For models that recompute whole groups (days, hours, sessions): in an incremental run, keep only
    the rows of `relation` whose `key` got new rows since this model's last run. -#}
{% macro only_touched(relation, key, alias=none) %}
  {%- if is_incremental() %}
    where {% if alias %}{{ alias }}.{% endif %}{{ key }} in (
      select distinct {{ key }} from {{ relation }}
      {{ loaded_since_last_run() }}
    )
  {%- endif %}
{% endmacro %}
