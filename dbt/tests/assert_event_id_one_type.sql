-- An event id is used by one event type only. A foreign producer that reuses ids across types
-- breaks this; fact_events then keeps the first loaded event under that id (see its model), so the
-- marts stay consistent, and this data-quality warning counts the ids, without stopping a run.
-- In a batch build only the rows loaded since the last tested build are checked, each against the
-- owner fact_events keeps for its id (one unique index, not five tables): a new row of another type
-- than its id's owner is a reused id, whether the owner is older or came in the same run. A pair of
-- which both were older was counted by an earlier build. A full sweep compares every table. (The
-- depends_on line tells dbt's parser, which sees the sweep's branch, that fact_events comes first.)
{{ config(severity='warn') }}
-- depends_on: {{ ref('fact_events') }}

{%- set tables = ['stg_search_events', 'stg_purchase_events', 'stg_order_complete_events', 'stg_order_failed_events', 'stg_error_events'] %}
{%- set since = logpipe_tests_since() %}

{% if since %}

with new_rows as (
    {% for t in tables %}
    select event_id, event_type from {{ ref(t) }} where _loaded_at > {{ since }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select new_rows.event_id, 1 + count(distinct new_rows.event_type) as types
from new_rows
inner join {{ ref('fact_events') }} as owner
    on owner.event_id = new_rows.event_id
    and owner.event_type <> new_rows.event_type
group by new_rows.event_id

{% else %}

with ids as (
    {% for t in tables %}
    select event_id, event_type from {{ ref(t) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select event_id, count(distinct event_type) as types
from ids
group by event_id
having count(distinct event_type) > 1

{% endif %}
