"""How every column reads: header, kind (and so format and unit), and Amazon console labels for enum values.

One registry for every table a page shows, every CSV a person downloads and the header checks of the browser test,
so a column called `cvr_shrunk` reads "CVR (shrunk)" on the page and in the file, and a money column has two
decimals everywhere. Metrics keep their definitions in `metrics` (labels and kinds come from there); this module adds
the columns that are not metrics: identities, settings, optimizer and promotion fields.

Kinds: money, percent (a fraction: 0.25 reads 25 %), points (already in percent: a placement adjustment of 50
reads +50 %), count, multiple (ROAS 3.10×), number, id (kept as text, all
digits), text, date, datetime, enum (a value with a console label), list (a chart cell, not exported), image (a
picture's URL: drawn on a page, written as its address in a file).
A column missing from the registry still reads as a sentence-cased header; `tests/services/analytics/
test_presentation.py` keeps the pages' columns in the registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from services.analytics.metrics import RATIOS, SUMS


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"
    help: str = ""


KINDS = (
    "money", "percent", "points", "count", "multiple", "number", "id", "text", "date", "datetime", "enum", "list",
    "image",
)  # fmt: skip

_EXTRA: dict[str, Column] = {
    # identities
    "campaign_id": Column("Campaign ID", "id"),
    "ad_group_id": Column("Ad group ID", "id"),
    "keyword_id": Column("Keyword ID", "id"),
    "target_id": Column("Target ID", "id"),
    "ad_id": Column("Ad ID", "id"),
    "profile_id": Column("Profile ID", "id"),
    "suggestion_id": Column("Suggestion ID", "id"),
    "promotion_id": Column("Promotion ID", "id"),
    "campaign_name": Column("Campaign"),
    "ad_group_name": Column("Ad group"),
    "keyword_text": Column("Keyword"),
    "search_term": Column("Search term"),
    "triggered_by": Column("Triggered by"),
    "term_product": Column(
        "Product (searched ASIN)", help="The product whose ASIN the shopper typed as the search term."
    ),
    "target_product": Column("Product (targeted ASIN)", help="The product a product target aims at."),
    "waste_threshold": Column(
        "Clicks to judge",
        "count",
        "Clicks without an order after which the term counts as wasted: at least the floor, and enough clicks to "
        "expect an order at its ad group's conversion rate.",
    ),
    "targeting": Column("Targeting"),
    "kind": Column("Kind", "enum"),
    "keyword_type": Column("Target type", "enum"),
    "match_type": Column("Match type", "enum"),
    "state": Column("State", "enum"),
    "status": Column("Status", "enum"),
    "serving_status": Column("Serving status", "enum"),
    "targeting_type": Column("Targeting type", "enum"),
    "bidding_strategy": Column("Bidding strategy", "enum"),
    "placement": Column("Placement", "enum"),
    "asin": Column("ASIN", "id"),
    "sku": Column("SKU", "id"),
    "name": Column("Product"),
    "advertised_asin": Column("Advertised ASIN", "id"),
    "advertised_name": Column("Advertised product"),
    "purchased_asin": Column("Purchased ASIN", "id"),
    "purchased_name": Column("Purchased product"),
    "ngram": Column("N-gram"),
    "terms": Column("Search terms", "count"),
    "ads": Column("Ads", "count"),
    "date": Column("Date", "date"),
    "start_date": Column("Start", "date"),
    "end_date": Column("End", "date"),
    # money and percent fields that are not report metrics
    "bid": Column("Bid", "money"),
    "default_bid": Column("Default bid", "money"),
    "keyword_bid": Column("Keyword bid", "money"),
    "value_bid": Column("Value bid", "money", "The bid at which a click earns its break-even share."),
    "budget": Column("Daily budget", "money"),
    "placement_top_pct": Column("Top of search adjustment", "points", "Bid increase on top of search, in percent."),
    "placement_product_page_pct": Column("Product pages adjustment", "points"),
    "placement_rest_of_search_pct": Column("Rest of search adjustment", "points"),
    "budget_use": Column("Budget use", "percent", "Share of the daily budget spent, averaged over the days shown."),
    "budget_used": Column("Budget used", "percent"),
    "budget_spent": Column("Budget spent", "money"),
    "time_elapsed": Column("Time elapsed", "percent"),
    "spend": Column("Spend", "money"),
    "cost_prev": Column("Spend (previous)", "money"),
    "cost_change": Column("Spend change", "money"),
    "sales_prev": Column("Sales (previous)", "money"),
    "sales_change": Column("Sales change", "money"),
    "fee": Column("Fee", "money"),
    "fee_share": Column("Fee share", "percent"),
    "cost_per_redemption": Column("Cost per redemption", "money"),
    "revenue": Column("Revenue", "money"),
    "effective_depth": Column("Effective discount", "percent"),
    "conversion": Column("Conversion", "percent"),
    "clip_to_redeem": Column("Clip to redeem", "percent"),
    "clips": Column("Clips", "count"),
    "redemptions": Column("Redemptions", "count"),
    "target_acos": Column("Target ACOS", "percent"),
    "break_even_acos": Column("Break-even ACOS", "percent"),
    "margin": Column("Margin", "percent"),
    "price": Column("Price", "money"),
    "unit_cost": Column("Unit cost", "money"),
    "profit": Column("Profit", "money"),
    # suggestions (the Suggestions page: work list, detail, confirmation, change history)
    "type_label": Column("Type"),
    "change": Column("Change", "text", "Current → proposed, in the unit of what changes: money, % or an action."),
    "product": Column("Product"),
    "campaign": Column("Campaign"),
    "ad_group": Column("Ad group"),
    "entity_type": Column("What"),
    "entity": Column("Name"),
    "entity_name": Column("Name"),
    "field": Column("Field"),
    "old_value": Column("Old value"),
    "new_value": Column("New value"),
    "change_type": Column("Type", "enum"),
    "action": Column("Action", "enum"),
    "ok": Column("Accepted"),
    "message": Column("Amazon's answer"),
    "undone_at": Column("Undone", "datetime"),
    "change_id": Column("Change ID", "id"),
    "evidence": Column("Evidence"),
    "value": Column("Value"),
    "meaning": Column("What it means"),
    "reason": Column("Why"),
    "rule": Column("Rule"),
    "confidence": Column("Confidence", "percent"),
    "cvr_raw": Column("CVR (observed)", "percent"),
    "cvr_shrunk": Column("CVR (estimated)", "percent", "Observed CVR pulled toward the ad group's, by how few clicks."),
    "expected_spend_change": Column("Expected spend change", "money"),
    "expected_sales_change": Column("Expected sales change", "money"),
    "expected_profit_change": Column(
        "Expected profit / week", "money", "Expected sales change × margin − expected spend change, per week."
    ),
    "created_at": Column("Created", "datetime"),
    "applied_at": Column("Applied", "datetime"),
    "sales_trend": Column("Sales trend", "list"),
    # autopilot runs and the measured effect of applied changes (the Suggestions page's record of what was done)
    "run_id": Column("Run ID", "id"),
    "started_at": Column("Started", "datetime"),
    "mode": Column("Mode"),
    "run_status": Column("Outcome"),
    "suggested": Column("Suggested", "count", "Suggestions the run computed from the latest data."),
    "kept": Column("Within the guardrails", "count", "Suggestions the guardrails on Goals let through."),
    "applied": Column("Applied", "count", "Changes Amazon accepted."),
    "failed": Column("Refused", "count", "Changes Amazon refused."),
    "live_changes": Column("Still in effect", "count", "Changes of the run not undone: what an undo puts back."),
    "skipped": Column("Held back by", help="How many suggestions each guardrail held back."),
    "measured": Column(
        "Measured effect",
        help="14 days after the change (settling days left out) against the 14 days before, adjusted by the "
        "account's own trend over the same days.",
    ),
    "applied_on": Column("Applied on", "date"),
    "scope": Column("Measured on"),
    "days_before": Column("Days before", "count"),
    "days_after": Column("Days after", "count"),
    **{
        f"{m}_{part}": Column(
            f"{label} {words}",
            "count" if m == "clicks" else "money",
            "After minus what the account's trend predicted from before." if part == "effect" else "",
        )
        for m, label in (("clicks", "Clicks"), ("spend", "Spend"), ("sales", "Sales"), ("profit", "Profit"))
        for part, words in (
            ("before", "before"),
            ("after", "after"),
            ("expected", "expected (trend)"),
            ("effect", "effect"),
        )
    },
    # products
    "brand": Column("Brand"),
    "image_url": Column("Image", "image", "The product's main image from Amazon's catalogue."),
    # promotions (coupons, deals, drafts, their suggestions)
    "promotion_name": Column("Promotion"),
    "promotion_budget": Column("Budget", "money", "The promotion's budget for its whole run."),
    "period": Column("Period"),
    "days": Column("Days", "count"),
    "units_per_day": Column("Units per day", "number"),
    "start": Column("Start", "date"),
    "end": Column("End", "date"),
    "discount": Column("Discount"),
    "audience": Column("Audience"),
    "asins": Column("ASINs"),
    "asin_names": Column("Products", help="The promoted products by name, in the order of the ASINs."),
    "pace": Column("Pace", "multiple", "Budget used ÷ time elapsed: above 1× the coupon spends faster than its days."),
    "sales_per_spend": Column("Sales per spend", "multiple"),
    "units_sold": Column("Units sold", "count"),
    "glance_views": Column("Glance views", "count"),
    "alert": Column("Alert"),
    "fee_model": Column("Fee model"),
    "snapshot_date": Column("Snapshot", "date"),
    "total_discount": Column("Discount given", "money"),
    "new_clips": Column("New clips", "count"),
    "new_redemptions": Column("New redemptions", "count"),
    "new_spend": Column("New spend", "money"),
    "new_sales": Column("New sales", "money"),
    "new_discount": Column("New discount", "money"),
    "type": Column("Suggestion"),
    "expected_effect": Column("Expected effect"),
    "check": Column("Amazon's rules"),
    "exported_at": Column("Exported", "datetime"),
    "coupon_id": Column("Coupon ID", "id"),
}

_METRICS: dict[str, Column] = {
    **{name: Column(label, kind) for name, (label, kind) in SUMS.items()},
    **{name: Column(label, kind) for name, (_n, _d, label, kind) in RATIOS.items()},
}
COLUMNS: dict[str, Column] = {**_EXTRA, **_METRICS}

# Values as Amazon's console writes them (Sponsored Products v3 enums and report values).
ENUM_LABELS: dict[str, dict[str, str]] = {
    "bidding_strategy": {
        "LEGACY_FOR_SALES": "Dynamic bids - down only",
        "AUTO_FOR_SALES": "Dynamic bids - up and down",
        "MANUAL": "Fixed bids",
        "RULE_BASED": "Rule-based bidding",
    },
    "match_type": {
        "EXACT": "Exact",
        "PHRASE": "Phrase",
        "BROAD": "Broad",
        "NEGATIVE_EXACT": "Negative exact",
        "NEGATIVE_PHRASE": "Negative phrase",
        "QUERY_HIGH_REL_MATCHES": "Close match",
        "QUERY_BROAD_REL_MATCHES": "Loose match",
        "ASIN_SUBSTITUTE_RELATED": "Substitutes",
        "ASIN_ACCESSORY_RELATED": "Complements",
        "TARGETING_EXPRESSION": "Product targeting",
        "TARGETING_EXPRESSION_PREDEFINED": "Automatic targeting",
    },
    "state": {"ENABLED": "Enabled", "PAUSED": "Paused", "ARCHIVED": "Archived"},
    "targeting_type": {"AUTO": "Automatic", "MANUAL": "Manual"},
    "serving_status": {
        "CAMPAIGN_STATUS_ENABLED": "Delivering",
        "RUNNING": "Delivering",
        "CAMPAIGN_PAUSED": "Paused",
        "CAMPAIGN_ARCHIVED": "Archived",
        "CAMPAIGN_OUT_OF_BUDGET": "Out of budget",
        "ADVERTISER_PAYMENT_FAILURE": "Payment failure",
        "ENDED": "Ended",
        "PENDING_START_DATE": "Scheduled",
    },
    "placement": {
        "PLACEMENT_TOP": "Top of search (first page)",
        "PLACEMENT_PRODUCT_PAGE": "Product pages",
        "PLACEMENT_REST_OF_SEARCH": "Rest of search",
        "Top of Search on-Amazon": "Top of search",
        "Detail Page on-Amazon": "Product pages",
        "Other on-Amazon": "Rest of search",
        "Rest of Search on-Amazon": "Rest of search",
    },
}
PROMOTION_KINDS = {
    "coupon": "Coupon",
    "best_deal": "Best deal",
    "lightning_deal": "Lightning deal",
    "percent_off": "Percentage off",
    "bogo": "Buy one get one",
    "ped": "Prime Exclusive Discount",
}
ENUM_LABELS["kind"] = {**ENUM_LABELS["match_type"], **PROMOTION_KINDS}
ENUM_LABELS["status"] = {
    s: s.capitalize() for s in ("live", "scheduled", "ended", "draft", "exported", "linked", "canceled", "expired")
}
ENUM_LABELS["keyword_type"] = {
    "KEYWORD": "Keyword",
    "TARGETING_EXPRESSION": "Product targeting",
    "TARGETING_EXPRESSION_PREDEFINED": "Automatic targeting",
}


def column(name: str) -> Column:
    """The registry's entry, or a sentence-cased header for a column nobody registered yet."""
    found = COLUMNS.get(name)
    if found is not None:
        return found
    return Column(name.replace("_", " ").strip().capitalize() or name)


def label(name: str) -> str:
    return column(name).label


def kind(name: str) -> str:
    return column(name).kind


def raw_names() -> set[str]:
    """Every registered field name whose header differs from it: a visible header equal to one of these is a field
    name that leaked (the browser test checks the headers it sees against this set)."""
    return {name for name, col in COLUMNS.items() if col.label != name}


def enum_label(field: str, value: object) -> object:
    """The console label of an enum value; unknown values pass through unchanged (case-insensitive lookup)."""
    table = ENUM_LABELS.get(field)
    if not table or not isinstance(value, str):
        return value
    return table.get(value) or table.get(value.upper()) or value


def readable(df: pd.DataFrame) -> pd.DataFrame:
    """Enum columns with their console labels (a copy; the data's own values stay in the store)."""
    out = df.copy()
    for col in out.columns:
        if col in ENUM_LABELS:
            out[col] = out[col].map(lambda v, c=col: enum_label(c, v))
    return out


def _money_text(value: object) -> object:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value
    return "" if math.isnan(v) else f"{v:.2f}"


def _percent_text(value: object) -> object:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value
    return "" if math.isnan(v) else f"{v * 100:.2f}%"


def _count_text(value: object) -> object:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value
    return "" if math.isnan(v) else (str(int(v)) if v.is_integer() else f"{v:.2f}")


def _id_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value)


def export_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame a person downloads: the page's headers, enum labels, money with two decimals, percentages as
    percentages ("18.20%", which spreadsheets read as a number), ids as text so no digit is lost; chart cells dropped.
    The formula guard is `export.to_safe_csv`'s job, after this."""
    out = readable(df)
    keep = [c for c in out.columns if kind(c) != "list"]
    out = out[keep]
    for col in out.columns:
        k = kind(col)
        if k == "money":
            out[col] = out[col].map(_money_text)
        elif k == "percent":
            out[col] = out[col].map(_percent_text)
        elif k == "id":
            out[col] = out[col].map(_id_text)
        elif k in ("multiple", "number"):
            out[col] = out[col].map(_money_text)  # two decimals: ROAS 5.01, not 5.011268214582475
        elif k == "count":
            out[col] = out[col].map(_count_text)  # 759, not 759.0
    return out.rename(columns={c: label(c) for c in out.columns})
