{#- A post-hook on every model (dbt_project.yml): the columns whose properties carry
    `constraints: [{type: not_null}]` get a NOT NULL constraint in PostgreSQL, added once (the
    first build, or the first run on a warehouse built before) and kept by every incremental run
    after it. The database then refuses a null in every row, old or new, at no cost per run, where a
    not_null test would be one more dbt node each build (incremental models' tests read only new
    rows; see get_where_subquery.sql). Views cannot carry constraints: they keep not_null tests. -#}
{% macro enforce_not_null() %}
  {%- if not execute or model.config.materialized not in ['table', 'incremental'] -%}
    {{- return('') -}}
  {%- endif -%}
  {%- set wanted = [] -%}
  {%- for name, column in model.columns.items() -%}
    {%- for constraint in column.constraints if constraint.type == 'not_null' -%}
      {%- do wanted.append(name) -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if wanted | length == 0 -%}{{- return('') -}}{%- endif -%}
  {%- set found = run_query(
    "select attname, attnotnull from pg_attribute where attrelid = '" ~ this ~ "'::regclass"
    ~ " and attnum > 0 and not attisdropped and attname in ('" ~ wanted | join("', '") ~ "')") -%}
  {%- set present = found.columns[0].values() -%}
  {%- for name in wanted if name not in present -%}
    {%- do exceptions.raise_compiler_error(
      "not_null constraint on column '" ~ name ~ "' of " ~ this ~ ", which has no such column") -%}
  {%- endfor -%}
  {%- set missing = [] -%}
  {%- for row in found.rows if not row[1] -%}{%- do missing.append(row[0]) -%}{%- endfor -%}
  {%- if missing | length == 0 -%}{{- return('') -}}{%- endif -%}
  alter table {{ this }}
  {%- for name in missing %}
    alter column {{ adapter.quote(name) }} set not null{{ "," if not loop.last }}
  {%- endfor %}
{% endmacro %}
