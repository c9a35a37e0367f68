-- From one funnel step to the next the count never grows, and completed + failed = ordered.
select *
from {{ ref('session_funnel_daily') }}
where searched > sessions
   or purchased > searched
   or ordered > purchased
   or completed > ordered
   or failed > ordered
   or completed + failed <> ordered
