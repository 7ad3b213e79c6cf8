"""Reporting v3 grains: the request body of each report and a generated converter from Amazon's columns to
the store's rows (one tuple expression per row, because this runs for every row of every report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from services import store
from services.store import as_float, as_id, as_int, money

# ---------------------------------------------------------------------------------------------
# report grains: Amazon request + column mapping

_METRICS = list(store.METRIC_COLUMNS)

REPORT_SPECS: dict[str, dict[str, Any]] = {
    "campaign_day": {
        "reportTypeId": "spCampaigns",
        "groupBy": ["campaign"],
        "columns": [
            "date",
            "campaignId",
            "campaignName",
            "campaignStatus",
            "campaignBudgetAmount",
            "campaignBudgetType",
            "campaignBiddingStrategy",
            "topOfSearchImpressionShare",
        ],
        "map": {
            "campaignId": ("campaign_id", "id"),
            "campaignName": "campaign_name",
            "campaignStatus": "campaign_status",
            "campaignBudgetAmount": ("budget", "money"),
            "campaignBudgetType": "budget_type",
            "campaignBiddingStrategy": "bidding_strategy",
            "topOfSearchImpressionShare": ("top_of_search_impression_share", "float"),
        },
        "metrics": True,
    },
    "placement_day": {
        "reportTypeId": "spCampaigns",
        "groupBy": ["campaign", "campaignPlacement"],
        "columns": ["date", "campaignId", "campaignName", "campaignBiddingStrategy", "placementClassification"],
        "map": {
            "campaignId": ("campaign_id", "id"),
            "campaignName": "campaign_name",
            "campaignBiddingStrategy": "bidding_strategy",
            "placementClassification": ("placement", "key"),
        },
        "metrics": True,
    },
    "target_day": {
        "reportTypeId": "spTargeting",
        "groupBy": ["targeting"],
        "columns": [
            "date",
            "keywordId",
            "keyword",
            "targeting",
            "matchType",
            "keywordType",
            "keywordBid",
            "adKeywordStatus",
            "adGroupId",
            "adGroupName",
            "campaignId",
            "campaignName",
        ],
        "map": {
            "keywordId": ("keyword_id", "idkey"),
            "keyword": "keyword",
            "targeting": "targeting",
            "matchType": "match_type",
            "keywordType": "keyword_type",
            "keywordBid": ("keyword_bid", "money"),
            "adKeywordStatus": "ad_keyword_status",
            "adGroupId": ("ad_group_id", "id"),
            "adGroupName": "ad_group_name",
            "campaignId": ("campaign_id", "id"),
            "campaignName": "campaign_name",
        },
        "metrics": True,
    },
    "search_term_day": {
        "reportTypeId": "spSearchTerm",
        "groupBy": ["searchTerm"],
        "columns": [
            "date",
            "searchTerm",
            "keywordId",
            "keyword",
            "targeting",
            "matchType",
            "keywordType",
            "keywordBid",
            "adGroupId",
            "adGroupName",
            "campaignId",
            "campaignName",
        ],
        "map": {
            "searchTerm": ("search_term", "key"),
            "keywordId": ("keyword_id", "idkey"),
            "keyword": "keyword",
            "targeting": "targeting",
            "matchType": "match_type",
            "keywordType": "keyword_type",
            "keywordBid": ("keyword_bid", "money"),
            "adGroupId": ("ad_group_id", "id"),
            "adGroupName": "ad_group_name",
            "campaignId": ("campaign_id", "id"),
            "campaignName": "campaign_name",
        },
        "metrics": True,
    },
    "advertised_product_day": {
        "reportTypeId": "spAdvertisedProduct",
        "groupBy": ["advertiser"],
        "columns": [
            "date",
            "adId",
            "advertisedAsin",
            "advertisedSku",
            "adGroupId",
            "adGroupName",
            "campaignId",
            "campaignName",
        ],
        "map": {
            "adId": ("ad_id", "idkey"),
            "advertisedAsin": "asin",
            "advertisedSku": "sku",
            "adGroupId": ("ad_group_id", "id"),
            "adGroupName": "ad_group_name",
            "campaignId": ("campaign_id", "id"),
            "campaignName": "campaign_name",
        },
        "metrics": True,
    },
    "purchased_product_day": {
        "reportTypeId": "spPurchasedProduct",
        "groupBy": ["asin"],
        "columns": [
            "date",
            "campaignId",
            "campaignName",
            "adGroupId",
            "keywordId",
            "keyword",
            "keywordType",
            "matchType",
            "advertisedAsin",
            "advertisedSku",
            "purchasedAsin",
            "purchasesOtherSku7d",
            "purchasesOtherSku14d",
            "salesOtherSku7d",
            "salesOtherSku14d",
            "unitsSoldOtherSku7d",
            "unitsSoldOtherSku14d",
        ],
        "map": {
            "campaignId": ("campaign_id", "id"),
            "campaignName": "campaign_name",
            "adGroupId": ("ad_group_id", "idkey"),
            "keywordId": ("keyword_id", "idkey"),
            "keyword": "keyword",
            "keywordType": "keyword_type",
            "matchType": "match_type",
            "advertisedAsin": ("advertised_asin", "key"),
            "advertisedSku": "advertised_sku",
            "purchasedAsin": ("purchased_asin", "key"),
            "purchasesOtherSku7d": ("purchases_other_sku_7d", "int"),
            "purchasesOtherSku14d": ("purchases_other_sku_14d", "int"),
            "salesOtherSku7d": ("sales_other_sku_7d", "money"),
            "salesOtherSku14d": ("sales_other_sku_14d", "money"),
            "unitsSoldOtherSku7d": ("units_other_sku_7d", "int"),
            "unitsSoldOtherSku14d": ("units_other_sku_14d", "int"),
        },
        "metrics": False,
    },
}
GRAINS = tuple(REPORT_SPECS)


def report_body(grain: str, start: str, end: str) -> dict:
    spec = REPORT_SPECS[grain]
    columns = list(spec["columns"]) + (_METRICS if spec["metrics"] else [])
    return {
        "name": f"ppc-dashboard {grain} {start}..{end}",
        "startDate": start,
        "endDate": end,
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": spec["reportTypeId"],
            "groupBy": list(spec["groupBy"]),
            "columns": columns,
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
        },
    }


def _m0(v: Any) -> float:
    return 0.0 if v is None or v == "" else round(float(v), 2)


def _i0(v: Any) -> int:
    return 0 if v is None or v == "" else (v if type(v) is int else int(round(float(v))))


def _idkey(v: Any) -> str:
    return as_id(v) or ""


def _key(v: Any) -> str:
    return "" if v is None else str(v)


def _int(v: Any) -> int | None:
    return v if type(v) is int else as_int(v)


def _id(v: Any) -> str | None:
    return str(v) if type(v) is int else as_id(v)


def _str(v: Any) -> Any:
    return v


_FN = {"id": _id, "idkey": _idkey, "key": _key, "money": money, "float": as_float, "int": _int, "str": _str}


def _compile(grain: str) -> tuple[list[str], Callable[[str, str | None, list[dict]], list[tuple]]]:
    """Column list and a generated row converter (one tuple expression per row: fast for 100k-row reports)."""
    spec = REPORT_SPECS[grain]
    fields: list[tuple[str, str, str]] = []
    for src, dst in spec["map"].items():
        name, kind = (dst, "str") if isinstance(dst, str) else dst
        fields.append((src, name, kind))
    if spec["metrics"]:
        for src, name in store.METRIC_COLUMNS.items():
            if name in ("impressions", "clicks"):
                kind = "i0"
            elif name == "cost":
                kind = "m0"
            else:
                kind = "money" if name in store.MONEY_METRICS else "int"
            fields.append((src, name, kind))
    env = dict(_FN, i0=_i0, m0=_m0)
    # The common cases are inlined (a JSON int stays an int, a float money value is rounded in place);
    # anything unusual (strings, blanks) falls back to the helper. This loop runs for every row of every
    # report, so a function call per value was most of the sync's CPU time.
    inline = {
        "i0": "(_v if type(_v := {get}) is int else f_i0(_v))",
        "int": "(_v if type(_v := {get}) is int or _v is None else f_int(_v))",
        "money": "(round(_v, 2) if type(_v := {get}) is float else (None if _v is None else f_money(_v)))",
        "m0": "(round(_v, 2) if type(_v := {get}) is float else f_m0(_v))",
        "id": "(str(_v) if type(_v := {get}) is int else f_id(_v))",
    }
    exprs = []
    for src, _, kind in fields:
        get = f"g({src!r})"
        if kind == "str":
            exprs.append(get)
        elif kind in inline:
            exprs.append(inline[kind].format(get=get))
        else:
            exprs.append(f"f_{kind}({get})")
    code = (
        "def convert(pid, cur, rows):\n"
        "    out = []\n    app = out.append\n"
        "    for r in rows:\n        g = r.get\n"
        "        d = g('date') or g('startDate')\n"
        f"        app((pid, str(d)[:10], cur, {', '.join(exprs)}))\n"
        "    return out\n"
    )
    ns = {f"f_{k}": v for k, v in env.items()}
    exec(code, ns)  # noqa: S102 - code built from our own constant column map
    cols = ["profile_id", "date", "currency_code"] + [f[1] for f in fields]
    return cols, ns["convert"]


_COMPILED = {g: _compile(g) for g in GRAINS}


def convert_report_rows(
    grain: str, profile_id: str, currency: str | None, rows: Iterable[dict]
) -> tuple[list[str], list[tuple]]:
    """Column names and one tuple per row; `rows` may be a stream (it is iterated once)."""
    cols, convert = _COMPILED[grain]
    return cols, convert(profile_id, currency, rows)


# ---------------------------------------------------------------------------------------------
# entities
