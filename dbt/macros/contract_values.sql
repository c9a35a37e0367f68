{#
  A closed set of values of the event contract (levels, event_types, device_types,
  payment_methods, shipping_methods), as a list for accepted_values tests. The owner of these
  sets is lib/events/enums.ts; logpipe's dbt runner (lib/dbt.ts) passes them as the JSON of
  LOGPIPE_CONTRACT, so dbt never holds a copy that could fall behind the contract. Run dbt through
  `./logpipe dbt`, which sets it.
#}
{% macro contract_values(name) %}
  {% set contract = fromjson(env_var('LOGPIPE_CONTRACT')) %}
  {% if name not in contract %}
    {{ exceptions.raise_compiler_error("contract_values: no set named '" ~ name ~ "' in LOGPIPE_CONTRACT (" ~ contract.keys() | join(', ') ~ ")") }}
  {% endif %}
  {{ return(contract[name]) }}
{% endmacro %}
