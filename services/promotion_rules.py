"""Create-promotion form, service side: drafts and Amazon's rules (promotions.md §3).

Every check returns messages keyed by the form's field name, so the page shows each one next to
its field. Nothing here raises on bad input: hostile text (formula starts, markup, emoji, bidi
controls, 10k-character strings) becomes an error or a warning with a plain message.

Field names (the page's widget keys):
- coupon: asins, discount_type, percent_off, money_off, title_suffix, budget, start_date, end_date,
  customer_segment, once_per_customer, name
- percentage off / BOGO: kind, name, asins, condition, tiers, buy_quantity, free_quantity, start, end,
  claim_code_type, claim_code, one_redemption_per_customer, combinability
- PED: name, skus, discount_type, discount_value, start, end
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from services.dates import to_date as parse_date, to_datetime as parse_datetime

# ---------------------------------------------------------------------------------------- limits

COUPON_PERCENT_MIN = 5
COUPON_PERCENT_MAX = 80
COUPON_PERCENT_WARN = 50          # pricing check: discount 5–50 % of the sale price, else suppressed
COUPON_BUDGET_MIN = 100           # local currency
COUPON_START_MAX_DAYS = 180
COUPON_MAX_DAYS = 90              # duration, start and end day included
COUPON_TITLE_MAX = 80
COUPON_MAX_ASINS = 8000           # child ASINs per coupon (200 parents)
PERCENT_OFF_MIN = 1
PERCENT_OFF_MAX = 50
MAX_TIERS = 9
PROMO_MIN_LEAD = timedelta(hours=4)
PROMO_MAX_ASINS = 4000
PED_MIN_PERCENT = 10
MAX_TEXT = 200                    # any free text longer than this is refused outright (never echoed)

SEGMENTS = {"all": "All", "all (default)": "All", "prime": "Prime", "amazon prime": "Prime",
            "student": "Student", "amazon student": "Student"}
REPORT_SEGMENT = {"All": "All (Default)", "Prime": "Amazon Prime", "Student": "Amazon Student"}
DISCOUNT_TYPES = {"percent": "percent", "percentage off": "percent", "percent_off": "percent", "%": "percent",
                  "money": "money", "money off": "money", "amount off": "money", "money_off": "money"}
CONDITIONS = ("at_least_quantity", "at_least_amount", "for_every_quantity")
CLAIM_CODE_TYPES = ("none", "single_use", "group")
COMBINABILITY = ("exclusive", "preferential", "unrestricted")
PED_TYPES = {"percentage off": "Percentage Off", "percent": "Percentage Off", "amount off": "Amount Off",
             "money": "Amount Off", "fixed price": "Fixed Price", "fixed": "Fixed Price"}

EVENT_NAMES = ("prime day", "prime big deal days", "prime early access", "black friday", "cyber monday",
               "cyber week", "boxing day", "singles day", "christmas", "xmas", "valentine", "mother's day",
               "father's day", "back to school", "halloween", "easter", "new year", "labor day",
               "memorial day", "independence day", "4th of july", "holiday sale", "big spring sale")

ASIN_RE = re.compile(r"^B0[A-Z0-9]{8}$")
ISBN10_RE = re.compile(r"^\d{10}$")
SKU_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,40}$")
AMOUNT_RE = re.compile(r"(%|[$£€¥₹]\s*\d|\d\s*[$£€¥₹]"
                       r"|\b\d+([.,]\d+)?\s*(percent|pct|off|usd|eur|gbp|dollars?|euros?|pounds?|cents?)\b"
                       r"|\bhalf[- ]price\b|\bbogo\b)", re.IGNORECASE)
MARKUP_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|javascript:|&#?\w+;", re.IGNORECASE)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BIDI_CONTROLS = {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                 "\u2066", "\u2067", "\u2068", "\u2069", "\u061c"}


@dataclass
class ValidationResult:
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, f: str, msg: str) -> None:
        self.errors.setdefault(f, []).append(msg)

    def warn(self, f: str, msg: str) -> None:
        self.warnings.setdefault(f, []).append(msg)

    def as_dict(self) -> dict:
        return {"errors": self.errors, "warnings": self.warnings}

    def merge(self, other: "ValidationResult") -> "ValidationResult":
        for k, v in other.errors.items():
            self.errors.setdefault(k, []).extend(v)
        for k, v in other.warnings.items():
            self.warnings.setdefault(k, []).extend(v)
        return self


# ---------------------------------------------------------------------------------------- drafts


@dataclass
class CouponDraft:
    asins: list[str] | str = field(default_factory=list)
    discount_type: str = "percent"              # percent | money
    percent_off: float | str | None = None
    money_off: float | str | None = None
    title_suffix: str = ""
    budget: float | str | None = None
    start_date: date | str | None = None
    end_date: date | str | None = None
    customer_segment: str = "All"               # All | Prime | Student
    once_per_customer: bool = True
    name: str = ""                              # internal name, shown in our lists (defaults to the title)
    marketplace_id: str = "ATVPDKIKX0DER"
    currency: str = "USD"

    kind = "coupon"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kind"] = self.kind
        return d


@dataclass
class PercentOffDraft:
    """Manage Promotions: Percentage Off (tiers) or Buy One Get One."""

    kind: str = "percent_off"                   # percent_off | bogo
    name: str = ""                              # internal description
    asins: list[str] | str = field(default_factory=list)
    condition: str = "at_least_quantity"        # at_least_quantity | at_least_amount | for_every_quantity
    tiers: list[Mapping[str, Any]] = field(default_factory=list)   # [{"threshold": 2, "percent_off": 10}, …]
    buy_quantity: int | str | None = None       # BOGO: buy N …
    free_quantity: int | str | None = None      # … get M free
    start: datetime | str | None = None
    end: datetime | str | None = None
    claim_code_type: str = "none"               # none | single_use | group
    claim_code: str = ""                        # group code
    one_redemption_per_customer: bool = False
    combinability: str = "preferential"         # exclusive | preferential | unrestricted
    marketplace_id: str = "ATVPDKIKX0DER"
    currency: str = "USD"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PedDraft:
    """Prime Exclusive Discount: one discount for a list of SKUs."""

    name: str = ""
    skus: list[str] | str = field(default_factory=list)
    discount_type: str = "Percentage Off"       # Percentage Off | Amount Off | Fixed Price
    discount_value: float | str | None = None
    start: date | str | None = None
    end: date | str | None = None
    event: bool = False                         # Prime Day / BFCM: stricter thresholds
    marketplace_id: str = "ATVPDKIKX0DER"
    currency: str = "USD"

    kind = "ped"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kind"] = self.kind
        return d


@dataclass(frozen=True)
class PedThresholds:
    """Configurable per marketplace and event (promotions.md §3.4)."""

    min_percent: float = PED_MIN_PERCENT
    max_percent: float = 100.0


PED_STANDARD = PedThresholds()
PED_EVENT = PedThresholds(min_percent=20, max_percent=80)


def draft_from_dict(data: Mapping[str, Any]):
    """Rebuild a draft from its stored dict (unknown keys ignored)."""
    kind = data.get("kind", "coupon")
    cls = {"coupon": CouponDraft, "ped": PedDraft}.get(kind, PercentOffDraft)
    names = set(cls.__dataclass_fields__)
    return cls(**{k: v for k, v in data.items() if k in names})


# ---------------------------------------------------------------------------------------- parsing helpers


def _short(text: str, n: int = 40) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= n else text[: n - 1] + "…"


def parse_number(value: Any) -> float | None:
    """A finite number from a widget value ('1,234.50', ' 20 ', 20, '20%'); None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    else:
        text = str(value).strip()
        if not text or len(text) > 32:
            return None
        text = text.replace(",", "").replace("%", "").strip()
        text = re.sub(r"^[$£€¥₹]", "", text).strip()
        try:
            f = float(text)
        except ValueError:
            return None
    if math.isnan(f) or math.isinf(f):
        return None
    return f


def split_ids(value: Any) -> list[str]:
    """ASIN/SKU list from a list or from text separated by ; , spaces or new lines (order kept)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        parts = [p for v in value for p in re.split(r"[;,\s]+", str(v))]
    else:
        parts = re.split(r"[;,\s]+", str(value))
    return [p.strip() for p in parts if p and p.strip()]


def normalize_asin(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def is_valid_asin(text: str) -> bool:
    """B0 + 8 letters/digits, or a 10-digit ISBN (books carry their ISBN-10 as ASIN)."""
    return bool(ASIN_RE.match(text) or ISBN10_RE.match(text))


def _has_emoji(text: str) -> bool:
    for ch in text:
        o = ord(ch)
        if (o >= 0x1F000 or 0x2600 <= o <= 0x27BF or 0x2B00 <= o <= 0x2BFF or 0xFE00 <= o <= 0xFE0F
                or ch == "\u200d" or unicodedata.category(ch) == "Cs"):
            return True
    return False


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def check_text(res: ValidationResult, f: str, value: Any, *, label: str, max_len: int, required: bool,
               allow_emoji: bool = False) -> str:
    """Common checks of any free text; returns the cleaned text (surrounding spaces removed)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        value = str(value)
    text = value.strip()
    if not text:
        if required:
            res.error(f, f"{label} is required.")
        return ""
    if len(text) > max(max_len, MAX_TEXT):
        res.error(f, f"{label} is {len(text):,} characters long; the limit is {max_len}.")
        return text
    if len(text) > max_len:
        res.error(f, f"{label} is {len(text)} characters long; the limit is {max_len}.")
    if text.startswith(FORMULA_START):
        res.error(f, f"{label} can't start with {text[0]!r}: spreadsheets would read it as a formula.")
    if MARKUP_RE.search(text):
        res.error(f, f"{label} can't contain HTML, markup or entities such as “{_short(MARKUP_RE.search(text).group(0), 20)}”.")
    if any(ch in BIDI_CONTROLS for ch in text):
        res.error(f, f"{label} contains invisible text-direction controls; type it again without them.")
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in BIDI_CONTROLS and ch not in "\u200d" for ch in text):
        res.error(f, f"{label} contains line breaks or invisible control characters.")
    if not allow_emoji and _has_emoji(text):
        res.error(f, f"{label} can't contain emoji or pictographic symbols; Amazon rejects them.")
    if _has_rtl(text):
        res.warn(f, f"{label} contains right-to-left script (Arabic/Hebrew); Amazon rejects text in a language "
                    "the marketplace doesn't support.")
    return text


def check_ids(res: ValidationResult, f: str, value: Any, *, known: Iterable[str] | None, max_count: int,
              what: str = "ASIN") -> list[str]:
    """Well-formed, unique, known to the account. Returns the normalised, de-duplicated list."""
    if isinstance(value, str) and len(value) > 200_000:
        res.error(f, f"The {what} list is too long to read.")
        return []
    raw = split_ids(value)
    if not raw:
        res.error(f, f"Add at least one {what}.")
        return []
    out: list[str] = []
    seen: set[str] = set()
    bad: list[str] = []
    for item in raw:
        norm = normalize_asin(item) if what == "ASIN" else item.strip()
        if what == "ASIN" and not is_valid_asin(norm):
            bad.append(item)
            continue
        if what == "SKU" and not SKU_RE.match(norm):
            bad.append(item)
            continue
        if norm in seen:
            continue
        seen.add(norm)
        out.append(norm)
    if bad:
        shown = ", ".join(_short(b, 20) for b in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        if what == "ASIN":
            res.error(f, f"Not a valid ASIN: {shown}. An ASIN is B0 followed by 8 letters or digits "
                         "(or a 10-digit ISBN for books).")
        else:
            res.error(f, f"Not a valid SKU: {shown}. A SKU is 1–40 printable characters.")
    if len(raw) - len(bad) > len(out):
        res.warn(f, f"Duplicate {what}s were removed.")
    if len(out) > max_count:
        res.error(f, f"At most {max_count:,} {what}s per promotion; this list has {len(out):,}.")
    if known is not None and out:
        known_set = {normalize_asin(k) if what == "ASIN" else str(k) for k in known}
        unknown = [a for a in out if a not in known_set]
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            res.error(f, f"Not in this account's catalogue: {shown}.")
    return out


def _segment(value: Any) -> str | None:
    if value is None:
        return "All"
    return SEGMENTS.get(str(value).strip().lower()[:40])


def _discount_type(value: Any) -> str | None:
    if value is None:
        return None
    return DISCOUNT_TYPES.get(str(value).strip().lower()[:40])


# ---------------------------------------------------------------------------------------- coupon


def validate_coupon(draft: CouponDraft, *, today: date, known_asins: Iterable[str] | None = None,
                    prices: Mapping[str, float] | None = None) -> ValidationResult:
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
            res.error("percent_off", f"A coupon's discount must be between {COUPON_PERCENT_MIN} % and "
                                     f"{COUPON_PERCENT_MAX} %; {pct:g} % is outside.")
        else:
            if pct != round(pct):
                res.error("percent_off", "Use a whole percentage (Amazon's coupon form takes whole numbers).")
            if pct > COUPON_PERCENT_WARN:
                res.warn("percent_off", f"Above {COUPON_PERCENT_WARN} % the coupon may be suppressed: Amazon's "
                                        "price check allows 5–50 % of the sale price and a price below the Was Price.")
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
                    res.error("money_off", f"The amount off must be below the price; it is not for "
                                           f"{', '.join(too_high[:5])}.")
                deep = [a for a in asins if known_prices.get(a) and a not in too_high
                        and amt / known_prices[a] * 100 > COUPON_PERCENT_WARN]
                if deep:
                    res.warn("money_off", f"More than {COUPON_PERCENT_WARN} % of the price of {', '.join(deep[:5])}: "
                                          "the coupon may be suppressed by Amazon's price check.")
                shallow = [a for a in asins if known_prices.get(a) and a not in too_high
                           and amt / known_prices[a] * 100 < COUPON_PERCENT_MIN]
                if shallow:
                    res.warn("money_off", f"Less than {COUPON_PERCENT_MIN} % of the price of {', '.join(shallow[:5])}: "
                                          "Amazon requires at least 5 %.")
            else:
                res.warn("money_off", "Prices are unknown here: make sure the amount off is below every ASIN's price.")
        if parse_number(draft.percent_off):
            res.warn("percent_off", "Percentage off is ignored for a money-off coupon.")

    title = check_text(res, "title_suffix", draft.title_suffix, label="The title", max_len=COUPON_TITLE_MAX,
                       required=True)
    if title and len(title) <= MAX_TEXT:
        m = AMOUNT_RE.search(title)
        if m:
            res.error("title_suffix", f"The title can't contain discount amounts or offers (“{_short(m.group(0), 20)}”): "
                                      "Amazon adds “Save X% on” itself.")
        low = title.lower()
        events = [e for e in EVENT_NAMES if e in low]
        if events:
            res.error("title_suffix", f"The title can't name an event (“{events[0]}”).")

    check_text(res, "name", draft.name, label="The internal name", max_len=COUPON_TITLE_MAX, required=False,
               allow_emoji=True)

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
        res.error("start_date", f"The start must be within {COUPON_START_MAX_DAYS} days "
                                f"(by {(today + timedelta(days=COUPON_START_MAX_DAYS)).isoformat()}).")
    elif start == today:
        res.warn("start_date", "A coupon starting today takes 4–6 hours to appear on Amazon.")
    if end is None:
        res.error("end_date", "Enter an end date (YYYY-MM-DD).")
    elif start is not None:
        if end < start:
            res.error("end_date", "The end date is before the start date.")
        elif (end - start).days + 1 > COUPON_MAX_DAYS:
            res.error("end_date", f"A coupon runs at most {COUPON_MAX_DAYS} days (start and end included); "
                                  f"this one runs {(end - start).days + 1}.")

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


def validate_percent_off(draft: PercentOffDraft, *, now: datetime, known_asins: Iterable[str] | None = None) -> ValidationResult:
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
                res.error("tiers", f"Tier {i}: the percentage off must be between {PERCENT_OFF_MIN} % and {PERCENT_OFF_MAX} %.")
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
            res.error("start", "The start must be at least 4 hours after submission "
                               f"(not before {(now + PROMO_MIN_LEAD):%Y-%m-%d %H:%M}).")
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


def validate_ped(draft: PedDraft, *, today: date, known_skus: Iterable[str] | None = None,
                 prices: Mapping[str, float] | None = None, thresholds: PedThresholds | None = None) -> ValidationResult:
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
            res.error("discount_value", f"A Prime Exclusive Discount must be between {th.min_percent:g} % and "
                                        f"{min(th.max_percent, 99.99):g} % off; {value:g} % is outside.")
    else:
        px = {k: parse_number(v) for k, v in (prices or {}).items()}
        for sku in skus:
            price = px.get(sku)
            if not price:
                continue
            pct = (value if dtype == "Amount Off" else price - value) / price * 100
            if pct < th.min_percent or pct > th.max_percent or (dtype == "Fixed Price" and value <= 0):
                res.error("discount_value", f"For {sku} this is {pct:.1f} % off; it must be between "
                                            f"{th.min_percent:g} % and {th.max_percent:g} %.")
        if not prices:
            res.warn("discount_value", f"Prices are unknown here: make sure the discount is at least {th.min_percent:g} % "
                                       "off each SKU's non-member price.")
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


def validate(draft, *, today: date | None = None, now: datetime | None = None,
             known_asins: Iterable[str] | None = None, known_skus: Iterable[str] | None = None,
             prices: Mapping[str, float] | None = None) -> ValidationResult:
    """Dispatch on the draft's kind."""
    now = now or datetime.now()
    today = today or now.date()
    if isinstance(draft, CouponDraft):
        return validate_coupon(draft, today=today, known_asins=known_asins, prices=prices)
    if isinstance(draft, PedDraft):
        return validate_ped(draft, today=today, known_skus=known_skus, prices=prices)
    return validate_percent_off(draft, now=now, known_asins=known_asins)
