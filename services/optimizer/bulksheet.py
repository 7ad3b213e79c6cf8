"""Amazon Ads bulk-operations file (Sponsored Products) for approved suggestions.

One sheet, `Sponsored Products Campaigns`, with the upload columns of the v3 template in Amazon's
order; one row per entity (a second row for the same entity would overwrite the first). Every cell is
a typed text cell (`analytics.export.text_xlsx`): a shopper-typed search term like `=SUM(1)` cannot run
as a formula, and reaches Amazon exactly as typed (no formula-guard apostrophe). IDs stay text too
(Amazon's IDs exceed Excel's 15 significant digits).
"""

from __future__ import annotations

import pandas as pd

from services.analytics.export import text_xlsx
from services.optimizer.actions import negative_match

SHEET = "Sponsored Products Campaigns"
COLUMNS = [
    "Product",
    "Entity",
    "Operation",
    "Campaign ID",
    "Ad Group ID",
    "Portfolio ID",
    "Ad ID",
    "Keyword ID",
    "Product Targeting ID",
    "Campaign Name",
    "Ad Group Name",
    "Start Date",
    "End Date",
    "Targeting Type",
    "State",
    "Daily Budget",
    "SKU",
    "ASIN",
    "Ad Group Default Bid",
    "Bid",
    "Keyword Text",
    "Native Language Keyword",
    "Native Language Locale",
    "Match Type",
    "Bidding Strategy",
    "Placement",
    "Percentage",
    "Product Targeting Expression",
]
PRODUCT = "Sponsored Products"
MATCH = {
    "EXACT": "exact",
    "PHRASE": "phrase",
    "BROAD": "broad",
    "NEGATIVE_EXACT": "negativeExact",
    "NEGATIVE_PHRASE": "negativePhrase",
}


def _s(v) -> str | None:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _date(v) -> str | None:
    """Bulk files write dates as yyyymmdd."""
    v = _s(v)
    return v.replace("-", "")[:8] if v else None


def rows_for(suggestions: pd.DataFrame, campaigns: pd.DataFrame | None = None) -> list[dict]:
    """Bulk rows (dicts keyed by COLUMNS) for the given suggestions; one row per entity, last one wins."""
    camp = {}
    if campaigns is not None and not campaigns.empty:
        camp = {str(r["campaign_id"]): r for r in campaigns.to_dict("records")}
    out: dict[tuple, dict] = {}

    def add(key: tuple, **values) -> None:
        row = {c: None for c in COLUMNS}
        row["Product"] = PRODUCT
        row.update(values)
        out.pop(key, None)
        out[key] = row

    for s in suggestions.to_dict("records"):
        t = s["type"]
        cid, agid = _s(s.get("campaign_id")), _s(s.get("ad_group_id"))
        if t == "bid":
            if s.get("entity_kind") == "keyword":
                add(
                    ("Keyword", s["entity_id"]),
                    Entity="Keyword",
                    Operation="Update",
                    **{
                        "Campaign ID": cid,
                        "Ad Group ID": agid,
                        "Keyword ID": _s(s["entity_id"]),
                        "Bid": float(s["proposed_value"]),
                    },
                )
            else:
                add(
                    ("Product Targeting", s["entity_id"]),
                    Entity="Product Targeting",
                    Operation="Update",
                    **{
                        "Campaign ID": cid,
                        "Ad Group ID": agid,
                        "Product Targeting ID": _s(s["entity_id"]),
                        "Bid": float(s["proposed_value"]),
                    },
                )
        elif t == "budget":
            c = camp.get(cid, {})
            add(
                ("Campaign", cid),
                Entity="Campaign",
                Operation="Update",
                **{
                    "Campaign ID": cid,
                    "Portfolio ID": _s(c.get("portfolio_id")),
                    "End Date": _date(c.get("end_date")),
                    "Daily Budget": float(s["proposed_value"]),
                },
            )
        elif t == "placement":
            add(
                ("Bidding Adjustment", cid, "Placement Top"),
                Entity="Bidding Adjustment",
                Operation="Update",
                **{
                    "Campaign ID": cid,
                    "Placement": "Placement Top",
                    "Percentage": int(round(float(s["proposed_value"]))),
                },
            )
        elif t == "negative":
            add(
                ("Negative Keyword", agid, s["search_term"].lower()),
                Entity="Negative Keyword",
                Operation="Create",
                **{
                    "Campaign ID": cid,
                    "Ad Group ID": agid,
                    "State": "enabled",
                    "Keyword Text": s["search_term"],
                    "Match Type": MATCH[negative_match(s)],
                },
            )
        elif t == "harvest":
            dc, dg = _s(s.get("dest_campaign_id")), _s(s.get("dest_ad_group_id"))
            add(
                ("Keyword", dg, s["search_term"].lower(), "exact"),
                Entity="Keyword",
                Operation="Create",
                **{
                    "Campaign ID": dc,
                    "Ad Group ID": dg,
                    "State": "enabled",
                    "Bid": float(s["proposed_value"]),
                    "Keyword Text": s["search_term"],
                    "Match Type": MATCH["EXACT"],
                },
            )
            if str(s.get("rule") or "").endswith("+isolate"):
                add(
                    ("Negative Keyword", agid, s["search_term"].lower()),
                    Entity="Negative Keyword",
                    Operation="Create",
                    **{
                        "Campaign ID": cid,
                        "Ad Group ID": agid,
                        "State": "enabled",
                        "Keyword Text": s["search_term"],
                        "Match Type": MATCH["NEGATIVE_EXACT"],
                    },
                )
        else:
            raise ValueError(f"Unknown suggestion type {t!r}")
    return list(out.values())


def bulk_frame(suggestions: pd.DataFrame, campaigns: pd.DataFrame | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows_for(suggestions, campaigns), columns=COLUMNS)


def to_bulk_xlsx(suggestions: pd.DataFrame, campaigns: pd.DataFrame | None = None) -> bytes:
    """XLSX bytes of the bulk file: sheet `Sponsored Products Campaigns`, Amazon's headers, one row per entity."""
    frame = bulk_frame(suggestions, campaigns)
    return text_xlsx(COLUMNS, frame.astype(object).itertuples(index=False), SHEET)


def approved_bulk_xlsx(db, account_id: str, profile_id: str) -> bytes:
    """The profile's approved suggestions as a bulk file (campaign Portfolio ID / End Date copied from the store)."""
    from services import optimizer as sugg

    df = sugg.list_suggestions(db, account_id, profile_id, statuses=("approved",))
    cur = db.conn.execute(
        "SELECT campaign_id, portfolio_id, end_date FROM campaigns WHERE profile_id = ?", [str(profile_id)]
    )
    campaigns = pd.DataFrame(cur.fetchall(), columns=["campaign_id", "portfolio_id", "end_date"])
    return to_bulk_xlsx(df, campaigns)


def bulk_filename(profile: str, day) -> str:
    from services.analytics.export import export_filename

    return export_filename("bulk-sponsored-products", profile, day, ext="xlsx")
