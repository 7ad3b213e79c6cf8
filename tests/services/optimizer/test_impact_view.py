"""How measured effects read on the Suggestions page: the days-to-go text, the history columns and the 30-day
summary line (pure functions over `measure_impacts`' frame; the measuring itself is tested on the sandbox in
test_impact.py)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from services.optimizer.impact import COLUMNS, history_with_effects, measured_text, summary_sentence


def _impacts(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).reindex(columns=COLUMNS)


MEASURED = {"change_id": "a", "applied_on": "2026-11-01", "status": "measured", "days_after": 14, "profit_effect": 40.0,
            "sales_effect": 120.0, "clicks_effect": 8.0}  # fmt: skip
PARTLY = {"change_id": "b", "applied_on": "2026-11-15", "status": "partly measured", "days_after": 9,
          "profit_effect": -12.5, "sales_effect": 10.0}  # fmt: skip
EARLY = {"change_id": "c", "applied_on": "2026-11-28", "status": "too early", "days_after": 2}
OLD = {"change_id": "d", "applied_on": "2026-09-01", "status": "measured", "days_after": 14, "profit_effect": 999.0}


def test_days_to_go_until_the_14_days_are_measured():
    assert measured_text(MEASURED) == "measured over 14 days, trend-adjusted"
    assert measured_text(PARTLY) == "measuring — 5 days to go (first 9 days shown)"
    assert measured_text(EARLY) == "measuring — 12 days to go"


def test_summary_adds_the_measured_profit_of_the_last_30_days_only():
    line = summary_sentence(_impacts(MEASURED, PARTLY, EARLY, OLD), "USD", today=date(2026, 12, 1))
    assert line.startswith("Changes applied in the last 30 days: +$27.50 profit, estimated (2 of 3 changes measured")
    loss = summary_sentence(_impacts(PARTLY), "USD", today=date(2026, 12, 1))
    assert loss.startswith("Changes applied in the last 30 days: −$12.50 profit, estimated")
    early = summary_sentence(_impacts(EARLY), "USD", today=date(2026, 12, 1))
    assert early.startswith("Changes applied in the last 30 days: 1, none measured yet")
    no_margin = summary_sentence(_impacts({**MEASURED, "profit_effect": None}), "USD", today=date(2026, 11, 20))
    assert "+$120.00 sales" in no_margin and "Set product margins on Goals" in no_margin
    assert summary_sentence(_impacts(OLD), "USD", today=date(2026, 12, 1)) == "No changes applied in the last 30 days."


def test_history_rows_carry_their_effect_and_undo_rows_none():
    history = pd.DataFrame({"change_id": ["a", "u", "c"], "change": ["$1.00 → $0.80", "undo", "new → enabled"]})
    out = history_with_effects(history, _impacts(MEASURED, EARLY))
    assert list(out["change_id"]) == ["a", "u", "c"]
    assert out.loc[0, "profit_effect"] == 40.0 and out.loc[0, "measured"].startswith("measured over 14 days")
    assert pd.isna(out.loc[1, "measured"]) and out.loc[2, "measured"] == "measuring — 12 days to go"
