"""Create-promotion form, service side: Amazon's rules for each promotion type (promotions.md §3).

Every check returns messages keyed by the form's field name, so the page shows each one next to
its field. Nothing here raises on bad input.

Field names (the page's widget keys):
- coupon: asins, discount_type, percent_off, money_off, title_suffix, budget, start_date, end_date,
  customer_segment, once_per_customer, name
- percentage off / BOGO: kind, name, asins, condition, tiers, buy_quantity, free_quantity, start, end,
  claim_code_type, claim_code, one_redemption_per_customer, combinability
- PED: name, skus, discount_type, discount_value, start, end
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from services.dates import to_date as parse_date
from services.dates import to_datetime as parse_datetime
from services.promotions.checks import (
    _discount_type,
    _segment,
    _short,
    check_ids,
    check_text,
    normalize_asin,
    parse_number,
)
from services.promotions.drafts import (
    AMOUNT_RE,
    CLAIM_CODE_TYPES,
    COMBINABILITY,
    CONDITIONS,
    COUPON_BUDGET_MIN,
    COUPON_MAX_ASINS,
    COUPON_MAX_DAYS,
    COUPON_PERCENT_MAX,
    COUPON_PERCENT_MIN,
    COUPON_PERCENT_WARN,
    COUPON_START_MAX_DAYS,
    COUPON_TITLE_MAX,
    EVENT_NAMES,
    MAX_TEXT,
    MAX_TIERS,
    PED_EVENT,
    PED_STANDARD,
    PED_TYPES,
    PERCENT_OFF_MAX,
    PERCENT_OFF_MIN,
    PROMO_MAX_ASINS,
    PROMO_MIN_LEAD,
    CouponDraft,
    PedDraft,
    PedThresholds,
    PercentOffDraft,
    ValidationResult,
)

# ---------------------------------------------------------------------------------------- coupon


def validate_coupon(
    draft: CouponDraft,
    *,
    today: date,
    known_asins: Iterable[str] | None = None,
    prices: Mapping[str, float] | None = None,
) -> ValidationResult:
    """Amazon's coupon rules (§3.1, bulk file §2). `today` is the marketplace's current date.

    `prices` (ASIN → current price) enables the money-off-below-price check and the depth warning.
    """
    res = ValidationResult()
    asins = check_ids(res, "asins", draft.asins, known=known_asins, max_count=COUPON_MAX_ASINS)

    kind = _discount_type(draft.discount_type)
    if kind is None:
        res.error("discount_type", "Choose Percentage off or Money off.")
    elif kind == "percent":
        pct = parse_number(draft.percent_off)
        if pct is None:
            res.error("percent_off", "Enter the percentage off as a number between 5 and 80.")
        elif pct < COUPON_PERCENT_MIN or pct > COUPON_PERCENT_MAX:
            res.error(
                "percent_off",
                f"A coupon's discount must be between {COUPON_PERCENT_MIN} % and "
                f"{COUPON_PERCENT_MAX} %; {pct:g} % is outside.",
            )
        else:
            if pct != round(pct):
                res.error("percent_off", "Use a whole percentage (Amazon's coupon form takes whole numbers).")
            if pct > COUPON_PERCENT_WARN:
                res.warn(
                    "percent_off",
                    f"Above {COUPON_PERCENT_WARN} % the coupon may be suppressed: Amazon's "
                    "price check allows 5–50 % of the sale price and a price below the Was Price.",
                )
        if parse_number(draft.money_off):
            res.warn("money_off", "Money off is ignored for a percentage-off coupon.")
    else:
        amt = parse_number(draft.money_off)
        if amt is None:
            res.error("money_off", "Enter the amount off as a number above zero.")
        elif amt <= 0:
            res.error("money_off", "The amount off must be above zero.")
        elif round(amt, 2) != amt:
            res.error("money_off", "Use at most two decimals for the amount off.")
        else:
            if prices:
                known_prices = {normalize_asin(k): parse_number(v) for k, v in prices.items()}
                too_high = [a for a in asins if known_prices.get(a) is not None and amt >= known_prices[a]]
                if too_high:
                    res.error(
                        "money_off", f"The amount off must be below the price; it is not for {', '.join(too_high[:5])}."
                    )
                deep = [
                    a
                    for a in asins
                    if known_prices.get(a) and a not in too_high and amt / known_prices[a] * 100 > COUPON_PERCENT_WARN
                ]
                if deep:
                    res.warn(
                        "money_off",
                        f"More than {COUPON_PERCENT_WARN} % of the price of {', '.join(deep[:5])}: "
                        "the coupon may be suppressed by Amazon's price check.",
                    )
                shallow = [
                    a
                    for a in asins
                    if known_prices.get(a) and a not in too_high and amt / known_prices[a] * 100 < COUPON_PERCENT_MIN
                ]
                if shallow:
                    res.warn(
                        "money_off",
                        f"Less than {COUPON_PERCENT_MIN} % of the price of {', '.join(shallow[:5])}: "
                        "Amazon requires at least 5 %.",
                    )
            else:
                res.warn("money_off", "Prices are unknown here: make sure the amount off is below every ASIN's price.")
        if parse_number(draft.percent_off):
            res.warn("percent_off", "Percentage off is ignored for a money-off coupon.")

    title = check_text(
        res, "title_suffix", draft.title_suffix, label="The title", max_len=COUPON_TITLE_MAX, required=True
    )
    if title and len(title) <= MAX_TEXT:
        m = AMOUNT_RE.search(title)
        if m:
            res.error(
                "title_suffix",
                f"The title can't contain discount amounts or offers (“{_short(m.group(0), 20)}”): "
                "Amazon adds “Save X% on” itself.",
            )
        low = title.lower()
        events = [e for e in EVENT_NAMES if e in low]
        if events:
            res.error("title_suffix", f"The title can't name an event (“{events[0]}”).")

    check_text(
        res, "name", draft.name, label="The internal name", max_len=COUPON_TITLE_MAX, required=False, allow_emoji=True
    )

    budget = parse_number(draft.budget)
    if budget is None:
        res.error("budget", f"Enter a budget of at least {COUPON_BUDGET_MIN} {draft.currency}.")
    elif budget < COUPON_BUDGET_MIN:
        res.error("budget", f"The budget must be at least {COUPON_BUDGET_MIN} {draft.currency}; {budget:g} is below.")
    elif round(budget, 2) != budget:
        res.error("budget", "Use at most two decimals for the budget.")

    start = parse_date(draft.start_date)
    end = parse_date(draft.end_date)
    if start is None:
        res.error("start_date", "Enter a start date (YYYY-MM-DD).")
    elif start < today:
        res.error("start_date", f"The start date {start.isoformat()} is in the past.")
    elif (start - today).days > COUPON_START_MAX_DAYS:
        res.error(
            "start_date",
            f"The start must be within {COUPON_START_MAX_DAYS} days "
            f"(by {(today + timedelta(days=COUPON_START_MAX_DAYS)).isoformat()}).",
        )
    elif start == today:
        res.warn("start_date", "A coupon starting today takes 4–6 hours to appear on Amazon.")
    if end is None:
        res.error("end_date", "Enter an end date (YYYY-MM-DD).")
    elif start is not None:
        if end < start:
            res.error("end_date", "The end date is before the start date.")
        elif (end - start).days + 1 > COUPON_MAX_DAYS:
            res.error(
                "end_date",
                f"A coupon runs at most {COUPON_MAX_DAYS} days (start and end included); "
                f"this one runs {(end - start).days + 1}.",
            )

    if _segment(draft.customer_segment) is None:
        res.error("customer_segment", "Choose All, Prime or Student.")
    if not isinstance(draft.once_per_customer, bool):
        res.error("once_per_customer", "Once per customer is yes or no.")
    return res


def coupon_budget_hint(days: int, daily_units: float, discount_per_unit: float, fee_per_unit: float = 0.0) -> float:
    """Minimum sensible budget ≈ days × average daily units × (discount + fee) (§4)."""
    return round(max(COUPON_BUDGET_MIN, days * daily_units * (discount_per_unit + fee_per_unit)), 2)


# ---------------------------------------------------------------------------------------- percentage off / BOGO


def normalize_claim_code(code: str) -> str:
    """Amazon stores group codes upper-case with 0→O and 1→I."""
    return code.strip().upper().replace("0", "O").replace("1", "I")


def validate_percent_off(
    draft: PercentOffDraft, *, now: datetime, known_asins: Iterable[str] | None = None
) -> ValidationResult:
    """Manage Promotions rules (§3.3). `now` is the submission time in the marketplace's zone."""
    res = ValidationResult()
    kind = str(draft.kind or "").strip().lower()
    if kind not in ("percent_off", "bogo"):
        res.error("kind", "Choose Percentage off or Buy one get one.")
        kind = "percent_off"
    check_text(res, "name", draft.name, label="The internal description", max_len=100, required=True, allow_emoji=True)
    check_ids(res, "asins", draft.asins, known=known_asins, max_count=PROMO_MAX_ASINS)

    cond = str(draft.condition or "").strip().lower()
    if cond not in CONDITIONS:
        res.error("condition", "Choose “At least this quantity”, “At least amount” or “For every quantity”.")
    elif cond == "for_every_quantity" and kind == "percent_off":
        res.error("condition", "“For every quantity of items purchased” is only for Money Off and Buy one get one.")

    if kind == "percent_off":
        tiers = list(draft.tiers or [])
        if not tiers:
            res.error("tiers", "Add at least one tier (buy N → X % off).")
        if len(tiers) > MAX_TIERS:
            res.error("tiers", f"At most {MAX_TIERS} tiers; this promotion has {len(tiers)}.")
        last_t = last_p = None
        for i, tier in enumerate(tiers[:50], start=1):
            tier = tier if isinstance(tier, Mapping) else {}
            thr = parse_number(tier.get("threshold"))
            pct = parse_number(tier.get("percent_off"))
            if thr is None or thr <= 0:
                res.error("tiers", f"Tier {i}: the purchase threshold must be above zero.")
            elif cond == "at_least_quantity" and thr != round(thr):
                res.error("tiers", f"Tier {i}: a quantity is a whole number.")
            if pct is None or pct < PERCENT_OFF_MIN or pct > PERCENT_OFF_MAX:
                res.error(
                    "tiers",
                    f"Tier {i}: the percentage off must be between {PERCENT_OFF_MIN} % and {PERCENT_OFF_MAX} %.",
                )
            if thr is not None and last_t is not None and thr <= last_t:
                res.error("tiers", f"Tier {i}: each tier needs a higher threshold than the one before.")
            if pct is not None and last_p is not None and pct < last_p:
                res.warn("tiers", f"Tier {i}: a higher tier gives a smaller discount.")
            last_t, last_p = thr if thr is not None else last_t, pct if pct is not None else last_p
    else:
        buy = parse_number(draft.buy_quantity)
        free = parse_number(draft.free_quantity)
        if buy is None or buy < 1 or buy != round(buy):
            res.error("buy_quantity", "Buyers must purchase a whole number of items, at least 1.")
        if free is None or free < 1 or free != round(free):
            res.error("free_quantity", "The free quantity is a whole number, at least 1.")
        if draft.tiers:
            res.warn("tiers", "Tiers are ignored for Buy one get one.")

    start = parse_datetime(draft.start)
    end = parse_datetime(draft.end)
    if start is None:
        res.error("start", "Enter a start date and time.")
    else:
        if start.tzinfo is not None and now.tzinfo is None:
            start = start.replace(tzinfo=None)
        if start - now < PROMO_MIN_LEAD:
            res.error(
                "start",
                "The start must be at least 4 hours after submission "
                f"(not before {(now + PROMO_MIN_LEAD):%Y-%m-%d %H:%M}).",
            )
    if end is None:
        res.error("end", "Enter an end date and time.")
    elif start is not None:
        if end.tzinfo is not None and start.tzinfo is None:
            end = end.replace(tzinfo=None)
        if end <= start:
            res.error("end", "The end must be after the start.")

    cct = str(draft.claim_code_type or "none").strip().lower()
    if cct not in CLAIM_CODE_TYPES:
        res.error("claim_code_type", "Choose no claim code, single-use or group.")
    elif cct == "group":
        code = check_text(res, "claim_code", draft.claim_code, label="The claim code", max_len=20, required=True)
        if code and not re.fullmatch(r"[A-Za-z0-9]{6,20}", code):
            res.error("claim_code", "A group claim code is 6–20 letters or digits.")
        elif code and normalize_claim_code(code) != code:
            res.warn("claim_code", f"Amazon stores the code as {normalize_claim_code(code)} (upper case, 0→O, 1→I).")
    elif cct == "none" and str(draft.claim_code or "").strip():
        res.warn("claim_code", "The claim code is ignored without a claim code type.")

    if not isinstance(draft.one_redemption_per_customer, bool):
        res.error("one_redemption_per_customer", "One redemption per customer is yes or no.")
    comb = str(draft.combinability or "").strip().lower()
    if comb not in COMBINABILITY:
        res.error("combinability", "Choose Exclusive, Preferential or Unrestricted.")
    elif comb == "unrestricted" and cct != "none":
        res.warn("combinability", "Unrestricted codes stack: two 50 % codes make the item free.")
    return res


# ---------------------------------------------------------------------------------------- PED


def validate_ped(
    draft: PedDraft,
    *,
    today: date,
    known_skus: Iterable[str] | None = None,
    prices: Mapping[str, float] | None = None,
    thresholds: PedThresholds | None = None,
) -> ValidationResult:
    """Prime Exclusive Discount rules (§3.4): at least 10 % off (events: 20–80 %, configurable)."""
    res = ValidationResult()
    th = thresholds or (PED_EVENT if draft.event else PED_STANDARD)
    check_text(res, "name", draft.name, label="The discount name", max_len=100, required=True, allow_emoji=True)
    skus = check_ids(res, "skus", draft.skus, known=known_skus, max_count=PROMO_MAX_ASINS, what="SKU")
    dtype = PED_TYPES.get(str(draft.discount_type or "").strip().lower()[:40])
    value = parse_number(draft.discount_value)
    if dtype is None:
        res.error("discount_type", "Choose Percentage Off, Amount Off or Fixed Price.")
    elif value is None or value <= 0:
        res.error("discount_value", "Enter the discount as a number above zero.")
    elif dtype == "Percentage Off":
        if value < th.min_percent or value > th.max_percent or value >= 100:
            res.error(
                "discount_value",
                f"A Prime Exclusive Discount must be between {th.min_percent:g} % and "
                f"{min(th.max_percent, 99.99):g} % off; {value:g} % is outside.",
            )
    else:
        px = {k: parse_number(v) for k, v in (prices or {}).items()}
        for sku in skus:
            price = px.get(sku)
            if not price:
                continue
            pct = (value if dtype == "Amount Off" else price - value) / price * 100
            if pct < th.min_percent or pct > th.max_percent or (dtype == "Fixed Price" and value <= 0):
                res.error(
                    "discount_value",
                    f"For {sku} this is {pct:.1f} % off; it must be between "
                    f"{th.min_percent:g} % and {th.max_percent:g} %.",
                )
        if not prices:
            res.warn(
                "discount_value",
                f"Prices are unknown here: make sure the discount is at least {th.min_percent:g} % "
                "off each SKU's non-member price.",
            )
    start, end = parse_date(draft.start), parse_date(draft.end)
    if start is None:
        res.error("start", "Enter a start date (YYYY-MM-DD).")
    elif start < today:
        res.error("start", f"The start date {start.isoformat()} is in the past.")
    if end is None:
        res.error("end", "Enter an end date (YYYY-MM-DD).")
    elif start is not None and end < start:
        res.error("end", "The end date is before the start date.")
    return res


def validate(
    draft,
    *,
    today: date | None = None,
    now: datetime | None = None,
    known_asins: Iterable[str] | None = None,
    known_skus: Iterable[str] | None = None,
    prices: Mapping[str, float] | None = None,
) -> ValidationResult:
    """Dispatch on the draft's kind."""
    now = now or datetime.now()
    today = today or now.date()
    if isinstance(draft, CouponDraft):
        return validate_coupon(draft, today=today, known_asins=known_asins, prices=prices)
    if isinstance(draft, PedDraft):
        return validate_ped(draft, today=today, known_skus=known_skus, prices=prices)
    return validate_percent_off(draft, now=now, known_asins=known_asins)
