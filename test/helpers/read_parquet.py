# An independent reader of logpipe's lake files: pyarrow (from PyPI) reads a Parquet file and prints
# its schema, row count and rows as JSON. Values as pyarrow gives them: timestamps as microseconds
# since the epoch (UTC), decimals and dates as text, lists as lists.
import datetime
import decimal
import json
import sys

import pyarrow.parquet as pq

table = pq.read_table(sys.argv[1])
schema = {f.name: str(f.type) for f in table.schema}
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(v):
    if isinstance(v, datetime.datetime):
        d = v - epoch
        return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    if isinstance(v, (datetime.date, decimal.Decimal)):
        return str(v)
    raise TypeError(type(v))


meta = pq.ParquetFile(sys.argv[1]).metadata
codecs = sorted({meta.row_group(g).column(c).compression for g in range(meta.num_row_groups) for c in range(meta.num_columns)})
# Top-level columns whose chunks carry min/max statistics in every row group.
with_stats = sorted(
    {meta.row_group(0).column(c).path_in_schema.split(".")[0] for c in range(meta.num_columns)
     if all(meta.row_group(g).column(c).is_stats_set and meta.row_group(g).column(c).statistics.has_min_max
            for g in range(meta.num_row_groups))}
) if meta.num_row_groups else []
json.dump(
    {"num_rows": table.num_rows, "row_groups": meta.num_row_groups, "codecs": codecs, "schema": schema,
     "with_stats": with_stats, "rows": table.to_pylist()},
    sys.stdout,
    default=plain,
)
