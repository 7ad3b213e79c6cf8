"""Reporting v3 report types, their group-bys and the columns each allows (Amazon's column sets)."""

from __future__ import annotations

WINDOWS = (1, 7, 14, 30)
_METRICS = (
    ["impressions", "clicks", "cost", "spend", "costPerClick", "clickThroughRate"]
    + [f"purchases{w}d" for w in WINDOWS]
    + [f"purchasesSameSku{w}d" for w in WINDOWS]
    + [f"sales{w}d" for w in WINDOWS]
    + [f"attributedSalesSameSku{w}d" for w in WINDOWS]
    + [f"unitsSoldClicks{w}d" for w in WINDOWS]
    + [f"unitsSoldSameSku{w}d" for w in WINDOWS]
    + ["kindleEditionNormalizedPagesRead14d", "kindleEditionNormalizedPagesRoyalties14d", "addToList"]
)
_TIME = ["date", "startDate", "endDate"]
_CAMP = [
    "campaignName",
    "campaignId",
    "campaignStatus",
    "campaignBudgetAmount",
    "campaignBudgetType",
    "campaignBudgetCurrencyCode",
]
_AG = ["adGroupName", "adGroupId"]
_TGT = [
    "keywordId",
    "keyword",
    "keywordBid",
    "keywordType",
    "matchType",
    "targeting",
    "adKeywordStatus",
    "portfolioId",
    "salesOtherSku7d",
    "unitsSoldOtherSku7d",
    "acosClicks7d",
    "acosClicks14d",
    "roasClicks7d",
    "roasClicks14d",
]
_OTHER = (
    [f"purchasesOtherSku{w}d" for w in WINDOWS]
    + [f"salesOtherSku{w}d" for w in WINDOWS]
    + [f"unitsSoldOtherSku{w}d" for w in WINDOWS]
)

REPORT_TYPES: dict[str, dict] = {
    "spCampaigns": {
        "groupBy": {"campaign", "adGroup", "campaignPlacement"},
        "filters": {"campaignStatus", "adStatus", "campaignSite"},
    },
    "spTargeting": {"groupBy": {"targeting"}, "filters": {"adKeywordStatus", "keywordType"}},
    "spSearchTerm": {"groupBy": {"searchTerm"}, "filters": {"keywordType"}},
    "spAdvertisedProduct": {"groupBy": {"advertiser"}, "filters": {"adCreativeStatus"}},
    "spPurchasedProduct": {"groupBy": {"asin"}, "filters": set()},
}


def allowed_columns(report_type_id: str, group_by: list[str]) -> set[str]:
    """Columns valid for a report type and groupBy (amazon-ads-api.md §5 "Columns")."""
    gb = set(group_by)
    cols = set(_METRICS) | set(_TIME)
    if report_type_id == "spCampaigns":
        cols |= {"campaignBiddingStrategy"}
        if "campaign" in gb:
            cols |= set(_CAMP) | {"topOfSearchImpressionShare"}
        if "adGroup" in gb:
            cols |= set(_AG) | {
                "adStatus",
                "campaignId",
                "campaignName",
                "campaignStatus",
                "campaignBudgetAmount",
                "campaignBudgetType",
                "campaignBudgetCurrencyCode",
            }
        if "campaignPlacement" in gb:
            cols |= {
                "placementClassification",
                "campaignId",
                "campaignName",
                "campaignStatus",
                "campaignBudgetAmount",
                "campaignBudgetType",
                "campaignBudgetCurrencyCode",
            }
    elif report_type_id in ("spTargeting", "spSearchTerm"):
        cols |= set(_CAMP) | set(_AG) | set(_TGT)
        if report_type_id == "spSearchTerm":
            cols.add("searchTerm")
    elif report_type_id == "spAdvertisedProduct":
        cols |= (
            set(_CAMP)
            | set(_AG)
            | {
                "adId",
                "advertisedAsin",
                "advertisedSku",
                "portfolioId",
                "salesOtherSku7d",
                "unitsSoldOtherSku7d",
                "acosClicks7d",
                "acosClicks14d",
                "roasClicks7d",
                "roasClicks14d",
            }
        )
    elif report_type_id == "spPurchasedProduct":
        cols = (
            set(_TIME)
            | set(_OTHER)
            | {
                "purchasedAsin",
                "advertisedAsin",
                "advertisedSku",
                "keywordId",
                "keyword",
                "keywordType",
                "matchType",
                "campaignId",
                "campaignName",
                "adGroupId",
                "adGroupName",
                "portfolioId",
                "campaignBudgetCurrencyCode",
                "kindleEditionNormalizedPagesRead14d",
                "kindleEditionNormalizedPagesRoyalties14d",
            }
        )
    else:
        return set()
    return cols
