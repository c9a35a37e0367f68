{#- Overrides dbt's get_where_subquery, which every generic test reads its model through. For the
    models in var('new_rows_tested_models'), a build the batch runs (a 'running' row in dbt_builds,
    see activities/dbt-step.ts) tests only the rows loaded after that row's tests_since: the rows this
    build added or rebuilt. Rows loaded earlier were tested by the build that added them; the unique
    indexes on event_id keep uniqueness across all rows; a full sweep (tests_since null, every
    DBT_FULL_TESTS_EVERY_MINUTES) and any dbt run outside the batch test every row. The threshold is
    read when the test runs (logpipe_tests_since), so no value changes between runs and dbt's partial
    parsing stays valid. A test's own `where` config still applies. -#}
{% macro get_where_subquery(relation) -%}
  {%- set filters = [] -%}
  {%- set where = config.get('where', '') -%}
  {%- if where -%}{%- do filters.append('(' ~ where ~ ')') -%}{%- endif -%}
  {%- if relation.identifier in var('new_rows_tested_models', []) -%}
    {%- set since = logpipe_tests_since() -%}
    {%- if since -%}{%- do filters.append('_loaded_at > ' ~ since) -%}{%- endif -%}
  {%- endif -%}
  {%- if filters -%}
    {%- set filtered -%}
      (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
  {%- else -%}
    {%- do return(relation) -%}
  {%- endif -%}
{%- endmacro %}

{#- The tests_since of the batch build running now, as a timestamptz literal; none when every row
    is to be tested (a full sweep, a dbt run outside the batch, a warehouse without the ledger, or
    parse time). A literal rather than a subquery so that PostgreSQL plans for the new rows only
    (index scans and nested loops, not hash joins over whole tables). -#}
{% macro logpipe_tests_since() -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set builds = env_var('WAREHOUSE_RAW_SCHEMA', 'raw') ~ '.dbt_builds' -%}
  {%- set found = run_query("select to_regclass('" ~ builds ~ "') is not null") -%}
  {%- if not found.columns[0].values()[0] -%}{{ return(none) }}{%- endif -%}
  {%- set since = run_query(
    "select tests_since::text from " ~ builds
    ~ " where status = 'running' order by started_at desc limit 1").columns[0].values() -%}
  {%- if since | length == 0 or since[0] is none -%}{{ return(none) }}{%- endif -%}
  {{ return("'" ~ since[0] ~ "'::timestamptz") }}
{%- endmacro %}
