"""The sync: fills the local store from Amazon (`engine`), planned in windows (`plan`), converted row by row
(`reports`, `records`), resumable (`runs`), and run from cron (`cli`, `python -m services.sync`).

May import `services.accounts`, `services.amazon`, `services.store` and `services.secrets`.
"""

from services.sync.cli import (  # noqa: F401 - the package's public API
    main,
)
from services.sync.engine import (  # noqa: F401 - the package's public API
    sync_account,
)
from services.sync.plan import (  # noqa: F401 - the package's public API
    COUPON_LOOKBACK_DAYS,
    DOWNLOAD_SLOTS,
    MAX_DAYS,
    MAX_IN_FLIGHT,
    MAX_SPAN,
    PROMO_LOOKAHEAD_DAYS,
    REFETCH_DAYS,
    REPORT_ATTEMPTS,
    ProgressFn,
    covered_dates,
    plan_range,
    windows,
)
from services.sync.records import (  # noqa: F401 - the package's public API
    ENTITY_KINDS,
    _entity_rows,
)
from services.sync.reports import (  # noqa: F401 - the package's public API
    GRAINS,
    REPORT_SPECS,
    convert_report_rows,
    report_body,
)
from services.sync.runs import (  # noqa: F401 - the package's public API
    SyncSummary,
)
