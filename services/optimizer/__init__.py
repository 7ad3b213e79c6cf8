"""Suggested changes: pure rules over the store's data (`settings`, `targets`, `model`, `bids`, `terms`,
`campaigns`, `engine`), aimed at the account's goals (`goals`: what the Goals page calls), loaded by `data`, kept by
`suggestions`, sent and undone by `apply`, journaled and recorded by `journal`, settled after a crash by
`reconcile`, reviewed by `review`, exported by `bulksheet`.

May import `services.analytics`, `services.accounts`, `services.store`; never promotions or the sync.
"""

from services.optimizer.actions import (  # noqa: F401 - the package's public API
    Action,
    ApplyReport,
)
from services.optimizer.apply import (  # noqa: F401 - the package's public API
    UnsettledChanges,
    apply_approved,
    change_history,
    change_markers,
    client_for_profile,
    recent_changes_for_cooldown,
    undo,
)
from services.optimizer.bids import (  # noqa: F401 - the package's public API
    bid_suggestions,
    break_even_table,
    campaign_targets,
)
from services.optimizer.campaigns import (  # noqa: F401 - the package's public API
    TOP_PLACEMENT_NAMES,
    budget_suggestions,
    placement_suggestions,
)
from services.optimizer.engine import (  # noqa: F401 - the package's public API
    RULES,
    group_by_type,
    optimize,
)
from services.optimizer.model import (  # noqa: F401 - the package's public API
    CLICK_ELASTICITY,
    METRICS,
    SUGGESTION_COLUMNS,
    SUGGESTION_TYPES,
    TYPE_LABELS,
    OptimizerInput,
    shrink,
    window,
)
from services.optimizer.reconcile import (  # noqa: F401 - the package's public API
    ReconcileReport,
    reconcile_account,
    reconcile_profile,
)
from services.optimizer.settings import (  # noqa: F401 - the package's public API
    DEFAULT_SETTINGS,
    STRATEGIES,
    Goals,
    Settings,
    SettingsBook,
)
from services.optimizer.suggestions import (  # noqa: F401 - the package's public API
    SORTABLE,
    STATUSES,
    ConfirmationRequired,
    approve,
    clear_campaign_settings,
    ensure_schema,
    export_suggestions_csv,
    generate,
    get_settings,
    get_settings_book,
    import_margins_csv,
    list_suggestions,
    margins_frame,
    migrations,
    reject,
    reset,
    save_settings,
    save_suggestions,
    set_margin,
    snooze,
    summary_by_type,
)
from services.optimizer.targets import (  # noqa: F401 - the package's public API
    Target,
    parse_evidence,
    resolve_targets,
    target_sentence,
)
from services.optimizer.terms import (  # noqa: F401 - the package's public API
    ASIN_RE,
    _exact_keywords,
    bleeder_probability,
    harvest_suggestions,
    negative_suggestions,
)
