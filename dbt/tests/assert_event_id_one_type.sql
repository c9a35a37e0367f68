-- An event id is used by one event type only. A foreign producer that reuses ids across types
-- breaks this; fact_events then keeps the first loaded event under that id (see its model), so the
-- marts stay consistent, and this data-quality warning counts the ids, without stopping a run.
-- In a batch build only the ids loaded since the last tested build are checked (looked up in every
-- table by their unique index); a pair of which both were older was counted by an earlier build.
{{ config(severity='warn') }}

{%- set tables = ['stg_search_events', 'stg_purchase_events', 'stg_order_complete_events', 'stg_order_failed_events', 'stg_error_events'] %}
{%- set since = logpipe_tests_since() %}

with
{% if since %}
new_ids as (
    {% for t in tables %}
    select event_id from {{ ref(t) }} where _loaded_at > {{ since }}
    {% if not loop.last %}union{% endif %}
    {% endfor %}
),
{% endif %}

ids as (
    {% for t in tables %}
    select event_id, event_type from {{ ref(t) }}
    {% if since %}where event_id in (select event_id from new_ids){% endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select event_id, count(distinct event_type) as types
from ids
group by event_id
having count(distinct event_type) > 1
