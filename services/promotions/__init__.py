"""Coupons, deals and Prime Exclusive Discounts: analytics (`analytics`), Amazon's fees (`fees`) and rules
(`drafts`, `checks`, `rules`), the create form (`form`), drafts and exports (`store`, `files`) and suggested
promotion changes (`suggestions`).

May import `services.analytics` and `services.store`; never the optimizer, sync or Amazon clients.
"""

from services.promotions.analytics import (  # noqa: F401 - the package's public API
    DEFAULT_SETTINGS,
    OFFLINE_AT,
    OVERVIEW_COLUMNS,
    SEGMENT_LABEL,
    STATUSES,
    PromoSettings,
    audience_label,
    coupon_kpis,
    coupons_frame,
    deals_frame,
    discount_label,
    profile_as_of,
    promotion_status,
    promotions_overview,
)
from services.promotions.performance import (  # noqa: F401 - the package's public API
    asin_ad_days,
    coupon_history,
    coupon_return,
    daily_ad_sales,
    promoted_asin_performance,
    promotion_windows,
    timeline_frames,
)
