"""The autopilot's guardrails as the Goals page edits them: readable names, units a marketer types (percent, money),
and a clear sentence for a value that cannot be right. Stored per account through `autopilot.save_guardrails`.

Only an approver may change them (`grants`): they decide what changes the live account without anyone asking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlite_utils import Database

from services.accounts import grants
from services.errors import DashboardError
from services.optimizer.autopilot import Guardrails, get_guardrails, save_guardrails


class InvalidGuardrail(DashboardError):
    default_message = "A guardrail value cannot be right. Nothing was saved."


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    unit: str  # "changes", "%", "money", "clicks"
    low: float
    high: float
    help: str
    percent: bool = False  # stored as a fraction, typed as a percent


FIELDS = (
    Field("max_changes", "Most changes per run", "changes", 1, 1000, "The most confident suggestions go first."),
    Field(
        "max_bid_change",
        "Largest bid change per run",
        "%",
        1,
        300,
        "A bid moves at most this far from its current value in one run, up or down.",
        percent=True,
    ),
    Field("max_bid", "Highest bid the autopilot may set", "money", 0.02, 1000, "No bid is raised or set above it."),
    Field(
        "max_daily_spend_increase",
        "Most added spend a day, per run",
        "money",
        0,
        1_000_000,
        "The run's changes together may raise the expected spend by at most this much a day.",
    ),
    Field(
        "weekly_spend_ceiling",
        "Weekly spend ceiling (0 = none)",
        "money",
        0,
        10_000_000,
        "Changes that raise spend stop once last week's spend plus the expected increase would pass it.",
    ),
    Field(
        "min_confidence",
        "Lowest confidence applied",
        "%",
        0,
        100,
        "Suggestions less sure than this wait for you on Suggestions.",
        percent=True,
    ),
    Field("min_clicks", "Fewest clicks behind a keyword change", "clicks", 0, 10_000, "Less data than this waits."),
)


def guardrail_values(db: Database, account_id: str) -> tuple[dict[str, float], list[str]]:
    """The stored guardrails in the units the page shows (percents as 0-100), and the excluded campaign ids."""
    g = get_guardrails(db, account_id)
    values = {f.name: float(getattr(g, f.name)) * (100 if f.percent else 1) for f in FIELDS}
    return values, list(g.excluded_campaigns)


def save_guardrail_values(
    db: Database, account_id: str, values: dict[str, float | None], excluded_campaigns: list[str]
) -> Guardrails:
    """Check every value (one sentence naming each wrong one) and save them all, or nothing."""
    grants.require(db, account_id, grants.CHANGE)
    problems, clean = [], {}
    for f in FIELDS:
        v = values.get(f.name)
        if v is None:
            problems.append(f"“{f.label}” is empty.")
            continue
        if not f.low <= float(v) <= f.high:
            problems.append(f"“{f.label}” must be between {f.low:g} and {f.high:g}{' %' if f.unit == '%' else ''}.")
            continue
        number = float(v) / 100 if f.percent else float(v)
        clean[f.name] = int(round(number)) if f.unit in ("changes", "clicks") else number
    if problems:
        raise InvalidGuardrail(" ".join(problems) + " Nothing was saved.")
    g = replace(get_guardrails(db, account_id), **clean, excluded_campaigns=tuple(str(c) for c in excluded_campaigns))
    save_guardrails(db, account_id, g)
    return g
