"""The optimizer's thresholds: one `Settings` per account with per-campaign overrides, each field described for the
goals page (kind, unit, bounds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from services.analytics.periods import RULES_LOOKBACK_DAYS, SETTLING_DAYS, TERM_RULES_LOOKBACK_DAYS

# ------------------------------------------------------------------------------------------
# settings


def _f(default: Any, description: str, **meta: Any):
    return field(default=default, metadata={"description": description, **meta})


@dataclass(frozen=True)
class Settings:
    """Optimizer settings. Every field carries a description for the settings UI."""

    target_acos: float | None = _f(
        None,
        "Target ACOS (fraction, 0.25 = 25 %). Empty: the share below of the break-even "
        "ACOS (pre-ad margin) of the campaign's products, else the default target.",
        kind="percent",
    )
    default_target_acos: float = _f(
        0.15, "Target ACOS used when neither a target nor product margins are set.", kind="percent"
    )
    break_even_share: float = _f(
        0.5,
        "Derived target as a share of break-even ACOS (0.5 = half). Profit, not "
        "sales: a click is worth AOV x CVR x margin, and more bid buys fewer extra "
        "clicks per cent (diminishing returns) while every click costs more, so the "
        "bid that maximises sales x margin - spend sits well below the break-even "
        "bid — about half of it when clicks respond like a typical auction. Bidding "
        "at break-even minus a few points buys sales at almost no profit.",
        kind="percent",
    )
    below_break_even: float = _f(0.0, "ACOS points subtracted after the share above (0 = none).", kind="percent")
    min_bid: float = _f(0.20, "Lowest bid the optimizer will suggest.", kind="money")
    max_bid: float = _f(5.00, "Highest bid the optimizer will suggest.", kind="money")
    max_step: float = _f(
        0.20, "Largest bid change per run, as a fraction of the current bid (0.20 = ±20 %).", kind="percent"
    )
    max_step_sure: float = _f(
        0.5,
        "Largest bid change per run when the evidence is strong: the step grows from the one above toward this as "
        "a keyword's clicks make its conversion rate sure, so a bid that is clearly 2x too high arrives in one or "
        "two runs instead of eight.",
        kind="percent",
    )
    dead_band: float = _f(
        0.03,
        "No bid change while the expected ACOS at the current bid is within this many points of the target.",
        kind="percent",
    )
    lookback_days: int = _f(
        RULES_LOOKBACK_DAYS, "Days of data the bid, budget and placement rules look at.", kind="days"
    )
    search_term_lookback_days: int = _f(
        TERM_RULES_LOOKBACK_DAYS, "Days of search-term data for negatives and harvesting.", kind="days"
    )
    settling_days: int = _f(SETTLING_DAYS, "Newest days left out: Amazon still attributes orders to them.", kind="days")
    cooldown_days: int = _f(
        3, "Days to wait after a change before touching the same keyword or campaign again.", kind="days"
    )
    min_clicks: int = _f(12, "Clicks a keyword or target needs before its bid is changed.", kind="count")
    min_orders_raise: int = _f(2, "Orders a keyword or target needs before its bid is raised.", kind="count")
    prior_max_clicks: float = _f(
        50.0, "Largest weight (pseudo-clicks) of the parent's conversion rate in the shrunk CVR.", kind="count"
    )
    bleeder_min_clicks: int = _f(
        8, "Clicks a search term needs in an ad group (with no order) before it is negated there.", kind="count"
    )
    bleeder_cvr_ratio: float = _f(
        0.5,
        "A search term is a bleeder when its conversion rate is below this fraction of its ad group's (0.5 = half).",
        kind="percent",
    )
    bleeder_confidence: float = _f(
        0.85,
        "Probability, given its clicks without an order, that a term is a bleeder "
        "before it is negated (0.85: about 2.8 orders were expected at its ad group's rate). "
        "Evidence is pooled over every ad group where the term never converted.",
        kind="percent",
    )
    harvest_min_orders: int = _f(
        2, "Orders a search term needs before it is harvested as an exact keyword.", kind="count"
    )
    harvest_max_per_run: int = _f(
        60,
        "Most new exact keywords suggested per run, those that gain the most first. A term qualifies when, at its "
        "own bid, it should earn more as an exact keyword than it earns in its source today (the exact keyword "
        "takes its query's traffic from the source). On tuning seed 1 (8 weeks) 60 earned about 900 more than 25.",
        kind="count",
    )
    harvest_max_acos_factor: float = _f(
        3.0,
        "Harvest only terms whose ACOS is at most this multiple of break-even. Above break-even a term can still "
        "pay as an exact keyword at its own, lower bid when its source overpays for it; far above, it converts too "
        "rarely for any bid.",
        kind="multiple",
    )
    budget_step: float = _f(0.20, "Budget change per run (0.20 = ±20 %).", kind="percent")
    budget_max_step_up: float = _f(
        0.6,
        "Largest budget raise per run for a campaign that runs out of budget while profitable: the step grows with "
        "how far its ACOS is under break-even (0.6 = +60 %). Faster (up to +100 % when it ran out every day) "
        "earned about 950 less over 8 weeks on tuning seed 1: the first raises come while bids are still too high.",
        kind="percent",
    )
    budget_min: float = _f(1.00, "Lowest daily budget suggested.", kind="money")
    budget_max: float = _f(500.00, "Highest daily budget suggested.", kind="money")
    budget_out_days: int = _f(
        3, "Days in the lookback a campaign must have spent ≥95 % of its budget to count as running out.", kind="count"
    )
    budget_cut_acos_factor: float = _f(
        1.3,
        "Budgets are cut when the campaign's ACOS exceeds the target by this factor; under Profit never below "
        "break-even (a capped campaign above its target but under break-even still earns on every dollar).",
        kind="multiple",
    )
    budget_min_orders: int = _f(3, "Orders a campaign needs before its budget is raised.", kind="count")
    placement_step: float = _f(20.0, "Largest change of the top-of-search percentage per run (points).", kind="count")
    placement_max_pct: float = _f(200.0, "Highest top-of-search percentage suggested.", kind="count")
    placement_min_clicks: int = _f(30, "Top-of-search clicks needed before its percentage is changed.", kind="count")
    placement_min_orders: int = _f(3, "Top-of-search orders needed before its percentage is raised.", kind="count")

    # ---- helpers for the UI / persistence
    @classmethod
    def describe(cls) -> list[dict]:
        """One row per field: name, default, description, kind (percent/money/days/count/multiple)."""
        return [
            {
                "name": f.name,
                "default": f.default,
                "description": f.metadata.get("description", ""),
                "kind": f.metadata.get("kind", ""),
            }
            for f in fields(cls)
        ]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None, base: Settings | None = None) -> Settings:
        base = base or cls()
        names = {f.name for f in fields(cls)}
        clean = {k: v for k, v in (data or {}).items() if k in names}
        return replace(base, **clean)

    def validate(self) -> list[str]:
        problems = []
        if self.min_bid <= 0 or self.max_bid < self.min_bid:
            problems.append("The minimum bid must be positive and not above the maximum bid.")
        if not 0 < self.max_step <= 1:
            problems.append("The step cap must be between 0 and 100 %.")
        if not self.max_step <= self.max_step_sure <= 1:
            problems.append("The step cap for strong evidence must be between the step cap and 100 %.")
        if self.target_acos is not None and not 0 < self.target_acos < 1:
            problems.append("The target ACOS must be between 0 and 100 %.")
        if self.lookback_days <= self.settling_days:
            problems.append("The lookback must be longer than the settling days.")
        return problems


DEFAULT_SETTINGS = Settings()


STRATEGIES = ("profit", "acos", "tacos")


@dataclass(frozen=True)
class Goals:
    """What the account aims at (the Goals page): a strategy and explicit target-ACOS overrides.

    strategy:  "profit" (default: each product's margin sets its target), "acos" (`value` is the account's
               target ACOS) or "tacos" (`value` is the account's target TACoS, ad spend / total sales).
    campaigns: campaign id -> target ACOS (a fraction) that beats everything else for that campaign.
    products:  ASIN -> target ACOS that beats the product's margin and the account's target.
    """

    strategy: str = "profit"
    value: float | None = None
    campaigns: dict[str, float] = field(default_factory=dict)
    products: dict[str, float] = field(default_factory=dict)


@dataclass
class SettingsBook:
    """Account-level settings plus per-campaign overrides (only the fields that differ), and the account's goals."""

    account: Settings = field(default_factory=Settings)
    campaigns: dict[str, dict] = field(default_factory=dict)
    goals: Goals = field(default_factory=Goals)

    def for_campaign(self, campaign_id: str | None) -> Settings:
        over = self.campaigns.get(str(campaign_id)) if campaign_id is not None else None
        return Settings.from_dict(over, self.account) if over else self.account


# ------------------------------------------------------------------------------------------
# input
