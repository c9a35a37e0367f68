{#- Shared by the additive models (revenue_daily, session_funnel_daily): what a run adds to the
    totals it kept from earlier runs. -#}

{#- The newest _loaded_at of `relation` as a literal; '-infinity' when it has none. Read through
    to_jsonb so that a table built before the model had _loaded_at also reads as '-infinity' (and
    is then rebuilt whole) instead of failing. Meant for small mart tables: it reads every row. -#}
{% macro newest_loaded_at(relation) -%}
  {{- return(logpipe_timestamp_literal(
    "select coalesce(max((to_jsonb(kept) ->> '_loaded_at')::timestamptz), '-infinity'::timestamptz) from "
    ~ relation ~ " as kept")) -}}
{%- endmacro %}

{#- The rows of the CTE `added` (keys, counts and _loaded_at) added to this model's kept rows of the
    same keys: every count is kept + added (0 where the group is new), _loaded_at the newer one. -#}
{% macro add_to_kept(key_columns, count_columns) %}
    select
        {%- for column in key_columns %}
        added.{{ column }},
        {%- endfor %}
        {%- for column in count_columns %}
        coalesce(kept.{{ column }}, 0) + added.{{ column }} as {{ column }},
        {%- endfor %}
        greatest(kept._loaded_at, added._loaded_at) as _loaded_at
    from added
    left join {{ this }} as kept
        on {% for column in key_columns -%}
        {%- if not loop.first %} and {% endif %}kept.{{ column }} = added.{{ column }}
        {%- endfor %}
{% endmacro %}
