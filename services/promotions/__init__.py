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
    asin_ad_days,
    audience_label,
    coupon_history,
    coupon_kpis,
    coupon_return,
    coupons_frame,
    daily_ad_sales,
    deals_frame,
    discount_label,
    profile_as_of,
    promoted_asin_performance,
    promotion_status,
    promotion_windows,
    promotions_overview,
    timeline_frames,
)
