{#- dbt's snapshot columns are timestamps without zone, written in UTC: give them their zone. -#}
{% macro utc(column) %}({{ column }} at time zone 'UTC'){% endmacro %}
