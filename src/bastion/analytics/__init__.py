"""Request analytics, the pure part: what a logged request holds, which requests are
sampled, which zone a request belongs to, and the queries and rollups the console needs.

Nothing here knows a database: :mod:`bastion.store.analytics` runs these definitions on
DuckDB (embedded) or ClickHouse (a server, or the embedded chDB engine).
"""

from bastion.analytics.record import (
    ACTIONS,
    CLASSES,
    COLUMNS,
    CaptureOptions,
    JudgedBatch,
    RequestRecord,
    records_from,
)
from bastion.analytics.sampler import Sampler
from bastion.analytics.zones import ZoneIndex

__all__ = [
    "ACTIONS",
    "CLASSES",
    "COLUMNS",
    "CaptureOptions",
    "JudgedBatch",
    "RequestRecord",
    "Sampler",
    "ZoneIndex",
    "records_from",
]
