{#- A post-hook on every model (dbt_project.yml): a table PostgreSQL has never analyzed (one a
    build just created) is analyzed at once. Without statistics the planner guesses a third of the
    table for "_loaded_at > bound" and hash-joins whole tables, and the incremental run right after a
    first build (autovacuum analyzes within a minute or so, not before) paid for it. Tables with
    statistics are left to autovacuum. -#}
{% macro analyze_new_table() %}
  {%- if not execute or model.config.materialized not in ['table', 'incremental'] -%}
    {{- return('') -}}
  {%- endif -%}
  {%- set never = run_query(
    "select coalesce(last_analyze, last_autoanalyze) is null from pg_stat_user_tables where relid = '"
    ~ this ~ "'::regclass").columns[0].values() -%}
  {%- if never | length == 0 or not never[0] -%}{{- return('') -}}{%- endif -%}
  analyze {{ this }}
{% endmacro %}
