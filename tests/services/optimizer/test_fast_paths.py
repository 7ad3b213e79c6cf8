"""The optimizer's fast paths give the answers of the plain formulations they replaced (issue 15: speed).

Each test builds a frame with the awkward cases (empty match type, several match types a group, text and parsed
dates, curves whose days repeat a bid) and checks the fast code against the slow, obviously-right version."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from services.optimizer.model import _in_window, _per_campaign, _plain_rows
from services.optimizer.response_curve import GRID, GRID_SPAN, WEAK_PRIOR_SIGMA, daily_bids, fit_curves
from services.optimizer.settings import Settings, SettingsBook
from services.optimizer.terms import _match_types


def test_match_types_equal_a_sorted_join_per_group():
    rng = np.random.default_rng(7)
    n = 5000
    win = pd.DataFrame(
        {
            "campaign_id": rng.choice(["1", "2", "3"], n),
            "ad_group_id": rng.choice(["a", "b"], n),
            "term": rng.choice([f"term {i}" for i in range(300)], n),
            "match_type": rng.choice(["", "EXACT", "BROAD", "PHRASE", "TARGETING_EXPRESSION"], n),
        }
    )
    keys = ["campaign_id", "ad_group_id", "term"]
    slow = (
        win[keys + ["match_type"]]
        .drop_duplicates()
        .sort_values("match_type")
        .groupby(keys, dropna=False)["match_type"]
        .agg(",".join)
    )
    fast = _match_types(win, keys)
    assert len(fast) == len(slow)
    assert fast.reindex(slow.index).tolist() == slow.tolist()
    assert any(v.startswith(",") for v in fast)  # the empty match type is kept, as the join kept it


def test_in_window_iso_text_and_dates_select_the_same_rows():
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(40)]
    text = pd.DataFrame({"date": [d.isoformat() for d in days], "clicks": range(40)})
    parsed = pd.DataFrame({"date": days, "clicks": range(40)})
    stamps = pd.DataFrame({"date": pd.to_datetime([d.isoformat() for d in days]), "clicks": range(40)})
    start, end = date(2024, 1, 5), date(2024, 1, 20)
    want = [i for i, d in enumerate(days) if start <= d <= end]
    for frame in (text, parsed, stamps):
        assert _in_window(frame, start, end)["clicks"].tolist() == want
    # text that is not a bare ISO day is parsed, not compared as text
    odd = pd.DataFrame({"date": ["2024-01-05T10:00:00", "2024-01-21T00:00:00"], "clicks": [1, 2]})
    assert _in_window(odd, start, end)["clicks"].tolist() == [1]


def test_fit_curves_over_repeated_bids_match_one_row_per_day():
    rng = np.random.default_rng(3)
    rows = []
    for e in range(30):
        bids = rng.choice([0.5, 0.8, 1.2], 3)
        for d in range(28):
            b = float(bids[d // 10])
            rows.append({"entity_id": f"k{e}", "bid": b, "clicks": int(rng.poisson(8 * (1 - np.exp(-b)))), "cost": 1.0})
    days = pd.DataFrame(rows)
    fast = fit_curves(days)
    for e in ("k0", "k7", "k29"):
        one = fit_curves(days[days["entity_id"] == e].reset_index(drop=True))[e]
        assert np.isclose(fast[e].level, one.level, rtol=1e-9)
        assert np.isclose(fast[e].ceiling, one.ceiling, rtol=1e-9)
        assert np.isclose(fast[e].log_sd, one.log_sd, rtol=1e-9)
        assert fast[e].source == one.source and fast[e].days == 28
    # the day-by-day posterior, written out (weak prior at the median bid), gives the same level and ceiling
    d = days[days["entity_id"] == "k7"]
    b, k = d["bid"].to_numpy(float), d["clicks"].to_numpy(float)
    mu, z = np.log(np.median(b)), np.linspace(-GRID_SPAN, GRID_SPAN, GRID)
    loglik = []
    for zg in z:
        s = 1 - np.exp(-b / np.exp(mu + zg))
        a = k.sum() / s.sum()
        loglik.append(k.sum() * np.log(a) + (k * np.log(s)).sum() - a * s.sum())
    post = np.array(loglik) - z**2 / (2 * WEAK_PRIOR_SIGMA**2)
    w = np.exp(post - post.max())
    level = np.exp(mu + (w * z).sum() / w.sum())
    assert np.isclose(fast["k7"].level, level, rtol=1e-9)
    assert np.isclose(fast["k7"].ceiling, k.sum() / (1 - np.exp(-b / level)).sum(), rtol=1e-9)


def test_daily_bids_without_changes_is_each_rows_current_bid():
    days = pd.DataFrame({"entity_id": ["1", "2", "3", "1"], "date": ["2024-01-01"] * 4})
    got = daily_bids(days, pd.DataFrame(), {"1": 0.5, "3": 1.25})
    assert got.tolist()[0] == 0.5 and np.isnan(got.tolist()[1]) and got.tolist()[2:] == [1.25, 0.5]


def test_per_campaign_gate_reads_each_campaigns_override():
    book = SettingsBook(Settings(min_clicks=12), campaigns={"C2": {"min_clicks": 30}})
    frame = pd.DataFrame({"campaign_id": ["C1", "C2", "C1"]})
    assert _per_campaign(frame, book, "min_clicks").tolist() == [12.0, 30.0, 12.0]


def test_plain_rows_give_python_strings_and_keep_missing_values():
    frame = pd.DataFrame({"term": ["shoe", None], "clicks": [3.0, 4.0]})
    rows = list(_plain_rows(frame))
    assert type(rows[0].term) is str and rows[0].term == "shoe" and rows[0].clicks == 3.0
    assert pd.isna(rows[1].term)
