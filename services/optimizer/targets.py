"""The ACOS each campaign aims at, and where that target came from (the account's goals, issue 13).

Precedence, first match wins, per campaign:

1. **campaign override**: a target ACOS set for the campaign on the Goals page (or, as before goals existed, a
   `target_acos` in the campaign's settings override);
2. **product override**: target ACOS set for products the campaign advertises (the mean when several);
3. the account's strategy:
   - **Target ACOS** ("acos"): the account's target ACOS ("account target");
   - **Target TACoS** ("tacos"): the TACoS target turned into an ACOS target for the campaign's products
     ("account TACoS target", formula below); when total sales are missing the Profit rule below is used and the
     source says so;
   - **Profit** ("profit", the default): an explicit account `Settings.target_acos` if one was saved ("account
     target"), else the **product margin** rule: the campaign's products' break-even ACOS (= pre-ad margin)
     x `break_even_share` - `below_break_even` (the bid that maximises sales x margin - ad spend sits near half
     of break-even), else the **account default** (`default_target_acos`).

In the issue's words: campaign override > product margin > account default. In Target ACOS and Target TACoS mode
the account's own target takes the margins' place: the seller chose to steer by that number, and margins stay on
the Goals page beside it (break-even ACOS) for reference.

TACoS -> ACOS. TACoS = ad spend / total sales and ACOS = ad spend / ad sales, so a campaign whose products run at
ACOS a has TACoS a x ad sales / total sales. The ACOS that lands the campaign's products on TACoS target T is

    target ACOS = T x (sum of the products' total sales) / (sum of their ad-attributed sales)

over the days of the rule window that have a total (Seller Central publishes about 72 hours late). Products with
no total (or no ad sales) fall back to the account's ratio (total sales / ad sales of the account); with no total
at all the TACoS target cannot be converted and the Profit rule steps in. Products that sell well organically get
a higher ACOS target (more spend while TACoS is under target), products that depend on ads a lower one; as ad
sales grow the ratio shrinks, so spend settles where TACoS meets the target. The result is kept within
[MIN_TARGET_ACOS, MAX_TACOS_ACOS].
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from services.optimizer.model import OptimizerInput
from services.optimizer.settings import STRATEGIES, SettingsBook

MIN_TARGET_ACOS = 0.02
MAX_TACOS_ACOS = 0.9  # a TACoS target never makes the optimizer bid for an ACOS above 90 %
NO_TOTALS = "no total sales for TACoS"


@dataclass(frozen=True)
class Target:
    """What one campaign aims at: kind ("profit" | "acos" | "tacos"), the goal's own value (a fraction; None for
    profit), the ACOS the bids aim at, and a short phrase naming where it came from."""

    kind: str
    value: float | None
    acos: float
    source: str

    def evidence(self) -> dict:
        """The keys every suggestion's evidence JSON carries (the Suggestions detail renders them)."""
        return {
            "target_kind": self.kind,
            "target_value": None if self.value is None else round(float(self.value), 6),
            "target_acos": round(float(self.acos), 6),
            "target_source": self.source,
        }


def _campaign_ids(inp: OptimizerInput) -> set[str]:
    ids: set[str] = set()
    # the ad groups' totals: campaigns with keyword rows in the search-term window, older than target_day's rows
    totals = inp.ad_group_totals if inp.ad_group_totals is not None else pd.DataFrame()
    summed = inp.target_totals if inp.target_totals is not None else pd.DataFrame()
    for frame in (inp.campaigns, inp.target_day, inp.product_ads, totals, summed):
        if not frame.empty and "campaign_id" in frame.columns:
            ids |= set(frame["campaign_id"].drop_duplicates().astype(str))  # unique first: the days repeat them
    return ids


def _products_by_campaign(inp: OptimizerInput) -> dict[str, list[str]]:
    if inp.product_ads.empty or "asin" not in inp.product_ads.columns:
        return {}
    pa = inp.product_ads.dropna(subset=["asin"])
    out: dict[str, list[str]] = {}
    for cid, asin in zip(pa["campaign_id"].astype(str).tolist(), pa["asin"].astype(str).str.upper().tolist()):
        out.setdefault(cid, [])
        if asin not in out[cid]:
            out[cid].append(asin)
    return out


def _margins(inp: OptimizerInput) -> dict[str, float]:
    if inp.margins.empty or "margin" not in inp.margins.columns:
        return {}
    m = inp.margins.dropna(subset=["margin"])
    return {str(a).upper(): float(v) for a, v in zip(m["asin"].tolist(), m["margin"].tolist())}


def tacos_ratios(inp: OptimizerInput) -> tuple[dict[str, tuple[float, float]], float | None]:
    """({ASIN: (total sales, ad sales)}, account total / ad sales or None) over the window the loader chose."""
    per_asin: dict[str, tuple[float, float]] = {}
    frame = inp.asin_sales
    if not frame.empty and {"asin", "total_sales", "ad_sales"} <= set(frame.columns):
        for a, t, s in zip(frame["asin"], frame["total_sales"], frame["ad_sales"]):
            if pd.notna(t) and pd.notna(s) and float(t) > 0 and float(s) > 0:
                per_asin[str(a).upper()] = (float(t), float(s))
    acct = inp.account_sales or {}
    total, ad = acct.get("total_sales"), acct.get("ad_sales")
    ratio = float(total) / float(ad) if total and ad and total > 0 and ad > 0 else None
    return per_asin, ratio


def tacos_to_acos(tacos: float, asins: list[str], per_asin: dict, account_ratio: float | None) -> float | None:
    """The ACOS target that lands these products on `tacos` (module docstring); None without any total sales."""
    known = [per_asin[a] for a in asins if a in per_asin]
    if known:
        ratio = sum(t for t, _ in known) / sum(s for _, s in known)
    elif account_ratio is not None:
        ratio = account_ratio
    else:
        return None
    return min(max(tacos * ratio, MIN_TARGET_ACOS), MAX_TACOS_ACOS)


def resolve_targets(inp: OptimizerInput, book: SettingsBook) -> dict[str, Target]:
    """Target per campaign id, in the precedence of the module docstring."""
    goals = book.goals
    strategy = goals.strategy if goals.strategy in STRATEGIES else "profit"
    products = _products_by_campaign(inp)
    margins = _margins(inp)
    per_asin, account_ratio = tacos_ratios(inp) if strategy == "tacos" else ({}, None)
    out: dict[str, Target] = {}
    for cid in _campaign_ids(inp) | set(products):
        s = book.for_campaign(cid)
        asins = products.get(cid, [])
        over = goals.campaigns.get(cid)
        legacy = (book.campaigns.get(cid) or {}).get("target_acos")
        product_over = [goals.products[a] for a in asins if a in goals.products]
        if over is not None:
            out[cid] = Target("acos", float(over), float(over), "campaign override")
        elif legacy is not None:
            out[cid] = Target("acos", float(legacy), float(legacy), "campaign override")
        elif product_over:
            v = sum(product_over) / len(product_over)
            out[cid] = Target("acos", v, v, "product override")
        elif strategy == "acos" and goals.value is not None:
            out[cid] = Target("acos", float(goals.value), float(goals.value), "account target")
        else:
            converted = None
            if strategy == "tacos" and goals.value is not None:
                converted = tacos_to_acos(float(goals.value), asins, per_asin, account_ratio)
                if converted is not None:
                    out[cid] = Target("tacos", float(goals.value), converted, "account TACoS target")
                    continue
            suffix = f" ({NO_TOTALS})" if strategy == "tacos" else ""
            known = [margins[a] for a in asins if a in margins]
            if s.target_acos is not None:
                out[cid] = Target("acos", float(s.target_acos), float(s.target_acos), "account target" + suffix)
            elif known:
                acos = max(MIN_TARGET_ACOS, sum(known) / len(known) * s.break_even_share - s.below_break_even)
                out[cid] = Target("profit", None, acos, "product margin" + suffix)
            else:
                out[cid] = Target("profit", None, float(s.default_target_acos), "account default" + suffix)
    return out


def default_target(book: SettingsBook) -> Target:
    """The target of a campaign the resolver never saw (no product, no data): the account default."""
    return Target("profit", None, float(book.account.default_target_acos), "account default")


def _pct(x: float) -> str:
    """25 %, 12.5 %: a fraction as the percent a marketer reads."""
    v = round(x * 100, 1)
    return f"{v:.0f} %" if v == int(v) else f"{v:.1f} %"


def parse_evidence(evidence: dict | str | None) -> dict:
    """The evidence dict of a suggestion, whether it comes as a dict, as the stored JSON text, or not at all."""
    if isinstance(evidence, dict):
        return evidence
    if isinstance(evidence, str) and evidence.strip():
        try:
            data = json.loads(evidence)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return {}


def _fraction(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def target_sentence(evidence: dict | str | None) -> str:
    """One sentence for the Suggestions detail, e.g. "Aims at 25 % ACOS (campaign override)."; "" when the
    suggestion predates targets in its evidence."""
    ev = parse_evidence(evidence)
    acos = _fraction(ev.get("target_acos"))
    if acos is None:
        return ""
    source = str(ev.get("target_source") or "").strip()
    kind, value = ev.get("target_kind"), _fraction(ev.get("target_value"))
    where = f" ({source})" if source else ""
    if kind == "tacos" and value is not None:
        return f"Aims at {_pct(acos)} ACOS to reach a {_pct(value)} TACoS{where}."
    if kind == "profit" and source.startswith("product margin"):
        return f"Aims at {_pct(acos)} ACOS, below break-even for the most profit{where}."
    return f"Aims at {_pct(acos)} ACOS{where}."
