"""Promotion costs as Amazon charges them (promotions.md §3.1, §3.5, §4).

Coupon fees (US):
- coupons starting before 2 June 2025: $0.60 per redemption;
- from 2 June 2025: $5 per coupon + 2.5 % of coupon sales;
- from 5 November 2025 the variable 2.5 % part is capped at $2,000 per coupon (new coupons).

Deal fees (US, Lightning / Best Deals, non-peak): from 2 June 2025 $70 per day + 1 % of deal sales,
the variable part capped at $2,000. Before that, and for every other marketplace, the model is
configurable: pass a `schedules` mapping, or call `register_coupon_schedule` / `register_deal_schedule`.

The model is chosen by the promotion's *start date* (Amazon applied the new models to coupons and
deals created to run from those dates; the cap applies to new coupons). A marketplace without a
configured model gives a `FeeBreakdown` whose `total` is None and whose `note` says so: the UI shows
"—", never a guessed number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from services.analytics.metrics import safe_ratio
from services.dates import to_date

NEW_COUPON_MODEL_FROM = date(2025, 6, 2)
COUPON_CAP_FROM = date(2025, 11, 5)
NEW_DEAL_MODEL_FROM = date(2025, 6, 2)

# marketplace id -> country code (the fee tables are keyed by country)
MARKETPLACE_COUNTRY = {
    "ATVPDKIKX0DER": "US",
    "A2EUQ1WTGCTBG2": "CA",
    "A1AM78C64UM0Y8": "MX",
    "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "UK",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES",
    "A1805IZSGTT6HS": "NL",
    "A2NODRKZP88ZB9": "SE",
    "A1C3SOZRARQ6R3": "PL",
    "AMEN7PMS3EDWL": "BE",
    "A28R8C7NBKEWEA": "IE",
    "A33AVAJ2PDY3EV": "TR",
    "A2VIGQ35RCS4UG": "AE",
    "A17E79C6D8DWNP": "SA",
    "ARBP9OOSHTCHU": "EG",
    "A21TJRUUN4KGV": "IN",
    "AE08WJ6YKNBMC": "ZA",
    "A1VC38T7YXB528": "JP",
    "A39IBJ37TRP1C6": "AU",
    "A19VAU5U5O7RUS": "SG",
}


def country_of(marketplace: str | None) -> str:
    """'US' for 'US', 'us' or 'ATVPDKIKX0DER'; 'GB' is spelled 'UK' as in Amazon's tables."""
    if not marketplace:
        return "US"
    m = str(marketplace).strip()
    if m in MARKETPLACE_COUNTRY:
        return MARKETPLACE_COUNTRY[m]
    m = m.upper()
    return "UK" if m == "GB" else m


@dataclass(frozen=True)
class FeeModel:
    """One fee model in force from `effective_from` (inclusive) until the next model of the schedule."""

    name: str
    effective_from: date
    per_unit: float = 0.0  # per redemption (coupons, old model)
    fixed: float = 0.0  # per coupon (coupons) / per day (deals)
    fixed_per_day: bool = False  # deals: the fixed part is per day of the deal
    variable_rate: float = 0.0  # share of promotion sales
    variable_cap: float | None = None
    currency: str = "USD"
    description: str = ""


@dataclass(frozen=True)
class FeeBreakdown:
    model: str | None
    fixed: float | None
    per_unit: float | None
    variable: float | None
    variable_uncapped: float | None
    capped: bool
    total: float | None
    currency: str = "USD"
    note: str = ""

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


COUPON_SCHEDULES: dict[str, list[FeeModel]] = {
    "US": [
        FeeModel("US coupons until 1 Jun 2025", date(1900, 1, 1), per_unit=0.60, description="$0.60 per redemption"),
        FeeModel(
            "US coupons from 2 Jun 2025",
            NEW_COUPON_MODEL_FROM,
            fixed=5.0,
            variable_rate=0.025,
            description="$5 per coupon + 2.5 % of coupon sales",
        ),
        FeeModel(
            "US coupons from 5 Nov 2025",
            COUPON_CAP_FROM,
            fixed=5.0,
            variable_rate=0.025,
            variable_cap=2000.0,
            description="$5 per coupon + 2.5 % of coupon sales, capped at $2,000",
        ),
    ],
}

DEAL_SCHEDULES: dict[str, list[FeeModel]] = {
    "US": [
        # Before 2 Jun 2025 Amazon charged differently by event; not hard-coded: register one if needed.
        FeeModel(
            "US deals from 2 Jun 2025",
            NEW_DEAL_MODEL_FROM,
            fixed=70.0,
            fixed_per_day=True,
            variable_rate=0.01,
            variable_cap=2000.0,
            description="$70 per day + 1 % of deal sales, capped at $2,000",
        ),
    ],
}


def register_coupon_schedule(marketplace: str, models: list[FeeModel]) -> None:
    COUPON_SCHEDULES[country_of(marketplace)] = sorted(models, key=lambda m: m.effective_from)


def register_deal_schedule(marketplace: str, models: list[FeeModel]) -> None:
    DEAL_SCHEDULES[country_of(marketplace)] = sorted(models, key=lambda m: m.effective_from)


def model_in_force(schedule: list[FeeModel] | None, on: date | datetime | str | None) -> FeeModel | None:
    d = to_date(on)
    if not schedule or d is None:
        return None
    current = None
    for m in sorted(schedule, key=lambda m: m.effective_from):
        if m.effective_from <= d:
            current = m
    return current


def coupon_fee_model(
    start: date | datetime | str, marketplace: str = "US", schedules: Mapping[str, list[FeeModel]] | None = None
) -> FeeModel | None:
    return model_in_force((schedules or COUPON_SCHEDULES).get(country_of(marketplace)), start)


def deal_fee_model(
    start: date | datetime | str, marketplace: str = "US", schedules: Mapping[str, list[FeeModel]] | None = None
) -> FeeModel | None:
    return model_in_force((schedules or DEAL_SCHEDULES).get(country_of(marketplace)), start)


def _num(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(f) or math.isinf(f) else f


def _apply(
    model: FeeModel | None, units: float, sales: float, days: int, what: str, start, marketplace
) -> FeeBreakdown:
    if model is None:
        return FeeBreakdown(
            None,
            None,
            None,
            None,
            None,
            False,
            None,
            note=(
                f"No {what} fee model is configured for {country_of(marketplace)} on {to_date(start)}; "
                "add one in promotion_fees to see fees."
            ),
        )
    fixed = model.fixed * (days if model.fixed_per_day else 1)
    per_unit = model.per_unit * units
    uncapped = model.variable_rate * sales
    variable = min(uncapped, model.variable_cap) if model.variable_cap is not None else uncapped
    capped = model.variable_cap is not None and uncapped > model.variable_cap
    total = round(fixed + per_unit + variable, 2)
    return FeeBreakdown(
        model.name,
        round(fixed, 2),
        round(per_unit, 2),
        round(variable, 2),
        round(uncapped, 2),
        capped,
        total,
        model.currency,
        model.description,
    )


def coupon_fee(
    redemptions: float | None,
    sales: float | None,
    start: date | datetime | str,
    marketplace: str = "US",
    schedules: Mapping[str, list[FeeModel]] | None = None,
) -> FeeBreakdown:
    """Amazon's fee for one coupon under the model in force on its start date (cancelled before start: call not)."""
    model = coupon_fee_model(start, marketplace, schedules)
    return _apply(model, _num(redemptions), _num(sales), 1, "coupon", start, marketplace)


def coupon_cost(
    total_discount: float | None,
    redemptions: float | None,
    sales: float | None,
    start: date | datetime | str,
    marketplace: str = "US",
    schedules: Mapping[str, list[FeeModel]] | None = None,
) -> float | None:
    """What the coupon cost the seller: customer savings + Amazon's fee (None if no fee model)."""
    fee = coupon_fee(redemptions, sales, start, marketplace, schedules)
    if fee.total is None:
        return None
    return round(_num(total_discount) + fee.total, 2)


def deal_days(start: date | datetime | str, end: date | datetime | str) -> int:
    """Calendar days a deal is charged for: at least one (Lightning Deals last hours)."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        hours = (end - start).total_seconds() / 3600
        return max(1, math.ceil(hours / 24 - 1e-9))
    s, e = to_date(start), to_date(end)
    if s is None or e is None:
        return 1
    return max(1, (e - s).days + 1)


def deal_fee(
    start: date | datetime | str,
    end: date | datetime | str,
    sales: float | None,
    marketplace: str = "US",
    schedules: Mapping[str, list[FeeModel]] | None = None,
    days: int | None = None,
) -> FeeBreakdown:
    """Lightning/Best Deal fee under the model in force on its start date (due in full even if cancelled)."""
    model = deal_fee_model(start, marketplace, schedules)
    n = days if days is not None else deal_days(start, end)
    return _apply(model, 0.0, _num(sales), n, "deal", start, marketplace)


def break_even_price(start: date | datetime | str = COUPON_CAP_FROM, marketplace: str = "US") -> float | None:
    """Unit price above which the new (2.5 %) model costs more per redemption than the old $0.60 (≈ $24)."""
    old = coupon_fee_model(date(2025, 1, 1), marketplace)
    new = coupon_fee_model(start, marketplace)
    if old is None or new is None or not new.variable_rate:
        return None
    return safe_ratio(old.per_unit, new.variable_rate)


@dataclass(frozen=True)
class IncrementalReturn:
    promo_units: float
    baseline_units: float
    incremental_units: float
    margin_gain: float
    discount_on_baseline: float
    fees: float
    value: float
    roi: float | None  # value / (discount + fees), None when nothing was spent
    baseline_days: int
    promo_days: int
    note: str = ""

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def incremental_return(
    promo_units: float,
    promo_days: int,
    baseline_units: float,
    baseline_days: int,
    unit_margin: float,
    redemptions: float,
    total_discount: float,
    fees: float,
) -> IncrementalReturn:
    """(promo units − baseline units) × unit margin at the promo price − discount on baseline units − fees.

    The baseline is the daily rate of the weeks before, scaled to the promotion's days. The discount on
    baseline units is what was given to buyers who would have bought anyway: the average discount per
    redemption on min(redemptions, baseline units).
    """
    promo_days = max(int(promo_days or 0), 1)
    rate = safe_ratio(_num(baseline_units), baseline_days) or 0.0
    base = rate * promo_days
    inc = _num(promo_units) - base
    gain = inc * _num(unit_margin)
    per_redemption = safe_ratio(_num(total_discount), _num(redemptions)) or 0.0
    on_base = per_redemption * min(_num(redemptions), base)
    value = gain - on_base - _num(fees)
    spent = _num(total_discount) + _num(fees)
    note = "" if baseline_days else "No baseline weeks: every promoted unit counted as incremental."
    return IncrementalReturn(
        _num(promo_units),
        round(base, 2),
        round(inc, 2),
        round(gain, 2),
        round(on_base, 2),
        round(_num(fees), 2),
        round(value, 2),
        safe_ratio(value, spent),
        int(baseline_days or 0),
        promo_days,
        note,
    )
