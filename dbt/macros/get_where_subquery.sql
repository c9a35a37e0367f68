{#- Overrides dbt's get_where_subquery, which every generic test reads its model through. For the
    models in var('new_rows_tested_models'), a build the batch runs (a 'running' row in dbt_builds,
    see activities/dbt-step.ts) tests only the rows loaded after that row's tests_since: the rows this
    build added or rebuilt. Rows loaded earlier were tested by the build that added them; the unique
    indexes on event_id keep uniqueness across all rows; a full sweep (tests_since null, every
    DBT_FULL_TESTS_EVERY_MINUTES) and any dbt run outside the batch test every row. The threshold is
    read by PostgreSQL in the test's own query, so no value changes between runs and dbt's partial
    parsing stays valid. A test's own `where` config still applies. -#}
{% macro get_where_subquery(relation) -%}
  {%- set filters = [] -%}
  {%- set where = config.get('where', '') -%}
  {%- if where -%}{%- do filters.append('(' ~ where ~ ')') -%}{%- endif -%}
  {%- if relation.identifier in var('new_rows_tested_models', []) and logpipe_build_ledger_exists() -%}
    {%- set builds = env_var('WAREHOUSE_RAW_SCHEMA', 'raw') ~ '.dbt_builds' -%}
    {%- do filters.append(
      "_loaded_at > coalesce((select tests_since from " ~ builds
      ~ " where status = 'running' order by started_at desc limit 1), '-infinity'::timestamptz)") -%}
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

{#- Whether the batch's build ledger exists (a warehouse dbt built by hand may have none). -#}
{% macro logpipe_build_ledger_exists() -%}
  {%- if not execute -%}{{ return(false) }}{%- endif -%}
  {%- set found = run_query(
    "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = 'dbt_builds' and n.nspname = '"
    ~ env_var('WAREHOUSE_RAW_SCHEMA', 'raw') ~ "'") -%}
  {{ return(found.columns[0].values()[0] | int > 0) }}
{%- endmacro %}
