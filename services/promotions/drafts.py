"""Amazon's promotion limits (promotions.md §3) and the drafts the create form fills."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

# ---------------------------------------------------------------------------------------- limits

COUPON_PERCENT_MIN = 5
COUPON_PERCENT_MAX = 80
COUPON_PERCENT_WARN = 50  # pricing check: discount 5–50 % of the sale price, else suppressed
COUPON_BUDGET_MIN = 100  # local currency
COUPON_START_MAX_DAYS = 180
COUPON_MAX_DAYS = 90  # duration, start and end day included
COUPON_TITLE_MAX = 80
COUPON_MAX_ASINS = 8000  # child ASINs per coupon (200 parents)
PERCENT_OFF_MIN = 1
PERCENT_OFF_MAX = 50
MAX_TIERS = 9
PROMO_MIN_LEAD = timedelta(hours=4)
PROMO_MAX_ASINS = 4000
PED_MIN_PERCENT = 10
MAX_TEXT = 200  # any free text longer than this is refused outright (never echoed)

SEGMENTS = {
    "all": "All",
    "all (default)": "All",
    "prime": "Prime",
    "amazon prime": "Prime",
    "student": "Student",
    "amazon student": "Student",
}
REPORT_SEGMENT = {"All": "All (Default)", "Prime": "Amazon Prime", "Student": "Amazon Student"}
DISCOUNT_TYPES = {
    "percent": "percent",
    "percentage off": "percent",
    "percent_off": "percent",
    "%": "percent",
    "money": "money",
    "money off": "money",
    "amount off": "money",
    "money_off": "money",
}
CONDITIONS = ("at_least_quantity", "at_least_amount", "for_every_quantity")
CLAIM_CODE_TYPES = ("none", "single_use", "group")
COMBINABILITY = ("exclusive", "preferential", "unrestricted")
PED_TYPES = {
    "percentage off": "Percentage Off",
    "percent": "Percentage Off",
    "amount off": "Amount Off",
    "money": "Amount Off",
    "fixed price": "Fixed Price",
    "fixed": "Fixed Price",
}

EVENT_NAMES = (
    "prime day",
    "prime big deal days",
    "prime early access",
    "black friday",
    "cyber monday",
    "cyber week",
    "boxing day",
    "singles day",
    "christmas",
    "xmas",
    "valentine",
    "mother's day",
    "father's day",
    "back to school",
    "halloween",
    "easter",
    "new year",
    "labor day",
    "memorial day",
    "independence day",
    "4th of july",
    "holiday sale",
    "big spring sale",
)

ASIN_RE = re.compile(r"^B0[A-Z0-9]{8}$")
ISBN10_RE = re.compile(r"^\d{10}$")
SKU_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,40}$")
AMOUNT_RE = re.compile(
    r"(%|[$£€¥₹]\s*\d|\d\s*[$£€¥₹]"
    r"|\b\d+([.,]\d+)?\s*(percent|pct|off|usd|eur|gbp|dollars?|euros?|pounds?|cents?)\b"
    r"|\bhalf[- ]price\b|\bbogo\b)",
    re.IGNORECASE,
)
MARKUP_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|javascript:|&#?\w+;", re.IGNORECASE)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BIDI_CONTROLS = {
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u061c",
}


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

    def merge(self, other: ValidationResult) -> ValidationResult:
        for k, v in other.errors.items():
            self.errors.setdefault(k, []).extend(v)
        for k, v in other.warnings.items():
            self.warnings.setdefault(k, []).extend(v)
        return self


# ---------------------------------------------------------------------------------------- drafts


@dataclass
class CouponDraft:
    asins: list[str] | str = field(default_factory=list)
    discount_type: str = "percent"  # percent | money
    percent_off: float | str | None = None
    money_off: float | str | None = None
    title_suffix: str = ""
    budget: float | str | None = None
    start_date: date | str | None = None
    end_date: date | str | None = None
    customer_segment: str = "All"  # All | Prime | Student
    once_per_customer: bool = True
    name: str = ""  # internal name, shown in our lists (defaults to the title)
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

    kind: str = "percent_off"  # percent_off | bogo
    name: str = ""  # internal description
    asins: list[str] | str = field(default_factory=list)
    condition: str = "at_least_quantity"  # at_least_quantity | at_least_amount | for_every_quantity
    tiers: list[Mapping[str, Any]] = field(default_factory=list)  # [{"threshold": 2, "percent_off": 10}, …]
    buy_quantity: int | str | None = None  # BOGO: buy N …
    free_quantity: int | str | None = None  # … get M free
    start: datetime | str | None = None
    end: datetime | str | None = None
    claim_code_type: str = "none"  # none | single_use | group
    claim_code: str = ""  # group code
    one_redemption_per_customer: bool = False
    combinability: str = "preferential"  # exclusive | preferential | unrestricted
    marketplace_id: str = "ATVPDKIKX0DER"
    currency: str = "USD"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PedDraft:
    """Prime Exclusive Discount: one discount for a list of SKUs."""

    name: str = ""
    skus: list[str] | str = field(default_factory=list)
    discount_type: str = "Percentage Off"  # Percentage Off | Amount Off | Fixed Price
    discount_value: float | str | None = None
    start: date | str | None = None
    end: date | str | None = None
    event: bool = False  # Prime Day / BFCM: stricter thresholds
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
