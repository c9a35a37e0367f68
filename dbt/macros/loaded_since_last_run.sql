{#- The incremental filter: rows whose `column` is newer than the newest _loaded_at already in this
    model, minus the lookback window. An indexed range, never `not in` over the table. The bound is
    read when the model runs and written into its SQL as a literal: with a subquery PostgreSQL
    guesses a third of the table and picks hash joins over whole tables; with the literal it knows
    the range holds the new rows only (btree columns are estimated past the histogram's end). -#}
{% macro loaded_since_last_run(column='_loaded_at') %}
  {%- if is_incremental() %}
    where {{ column }} > {{ logpipe_timestamp_literal(
      "select coalesce(max(_loaded_at), '-infinity'::timestamptz) - interval '" ~ var("lookback_minutes")
      ~ " minutes' from " ~ this) }}
  {%- endif %}
{% endmacro %}

{#- The single timestamptz `sql` returns, as a literal (its text form re-reads to the same
    microsecond in the same database). At parse time, before anything runs: '-infinity'. -#}
{% macro logpipe_timestamp_literal(sql) -%}
  {%- if not execute -%}
    {{- return("'-infinity'::timestamptz") -}}
  {%- endif -%}
  {%- set value = run_query("select (" ~ sql ~ ")::text").columns[0].values()[0] -%}
  {%- if value is none -%}
    {{- return("'-infinity'::timestamptz") -}}
  {%- endif -%}
  {{- return("'" ~ value ~ "'::timestamptz") -}}
{%- endmacro %}
