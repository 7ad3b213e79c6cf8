"""Campaign analytics read from the store: metrics defined once (`metrics`), periods, tables, n-grams, charts and
the one safe CSV writer (`export`).

May import `services.store`; never the optimizer, promotions, sync or Amazon clients.
"""

from services.analytics.tables import (  # noqa: F401 - the package's public API
    METRIC_ORDER,
    PLACEMENT_LABELS,
    TILE_METRICS,
    WINDOWS,
    Overview,
    Query,
    Tile,
    ad_groups_table,
    campaigns_table,
    converters_not_exact,
    daily,
    data_span,
    display_columns,
    halo_table,
    last_sync,
    movers,
    overview,
    placements_table,
    products_table,
    profile_info,
    search_terms_table,
    targets_table,
    tiles,
    wasted_spend,
)
