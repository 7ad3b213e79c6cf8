"""The local store: one SQLite database (WAL) that the sync fills and the dashboard reads.

Owns the connection rules (`db`: WAL, busy timeout, short BEGIN IMMEDIATE writes, value coercions) and the
schema (`schema`: natural keys, migrations). Imports nothing from the rest of `services`.
"""

from services.store.db import (  # noqa: F401 - the package's public API
    BUSY_TIMEOUT_MS,
    apply_migrations,
    as_float,
    as_id,
    as_int,
    dump_table,
    forget_spans,
    migrations_pending,
    money,
    open_db,
    replace_window,
    table_columns,
    to_json,
    upsert_rows,
    write,
)
from services.store.schema import (  # noqa: F401 - the package's public API
    DATA_TABLES,
    ENTITY_TABLES,
    METRIC_COLUMNS,
    MONEY_METRICS,
    REPORT_TABLES,
    SALES_TABLES,
    SUMMARY_TABLES,
    migrations,
)
