"""Loading the optimizer's frames from the store: Amazon's column names mapped to the generic ones."""

from __future__ import annotations

from datetime import date

from services import store
from services.optimizer.data import latest_date, load_input
from services.optimizer.settings import Settings


def _db(tmp_path):
    db = store.open_db(tmp_path / "s.db")
    with store.write(db):
        store.upsert_rows(
            db,
            "ad_groups",
            [
                {
                    "profile_id": "P",
                    "ad_group_id": "G",
                    "campaign_id": "C",
                    "name": "AG",
                    "state": "ENABLED",
                    "default_bid": 0.8,
                }
            ],
        )
        store.upsert_rows(
            db,
            "campaigns",
            [
                {
                    "profile_id": "P",
                    "campaign_id": "C",
                    "name": "Camp",
                    "state": "ENABLED",
                    "targeting_type": "MANUAL",
                    "budget": 20.0,
                    "placement_top_pct": 10.0,
                }
            ],
        )
        store.upsert_rows(
            db,
            "keywords",
            [
                {
                    "profile_id": "P",
                    "keyword_id": "K",
                    "campaign_id": "C",
                    "ad_group_id": "G",
                    "keyword_text": "yoga mat",
                    "match_type": "EXACT",
                    "state": "ENABLED",
                    "bid": None,
                }
            ],
        )
        store.upsert_rows(
            db,
            "target_day",
            [
                {
                    "profile_id": "P",
                    "date": "2026-03-01",
                    "keyword_id": "K",
                    "campaign_id": "C",
                    "ad_group_id": "G",
                    "impressions": 100,
                    "clicks": 10,
                    "cost": 5.0,
                    "purchases_7d": 2,
                    "sales_7d": 60.0,
                    "purchases_14d": 3,
                    "sales_14d": 90.0,
                }
            ],
        )
    return db


def test_load_maps_columns_and_defaults_bid(tmp_path):
    db = _db(tmp_path)
    assert latest_date(db, "P") == date(2026, 3, 1)
    inp = load_input(db, "P")
    assert inp.as_of == date(2026, 3, 1)
    row = inp.target_day.iloc[0]
    assert (row["entity_id"], row["orders"], row["sales"]) == ("K", 2, 60.0)
    ent = inp.entities.iloc[0]
    assert ent["kind"] == "keyword" and ent["bid"] == 0.8 and ent["state"] == "enabled"
    assert inp.campaigns.iloc[0]["state"] == "enabled"
    inp14 = load_input(db, "P", attribution="14d")
    assert inp14.target_day.iloc[0]["orders"] == 3


# ------------------------------------------------------------------ the loader's shortcuts change no suggestion

AS_OF = date(2026, 3, 31)
P = "P"


def _world(tmp_path, seed: int = 3):
    """A small profile with 120 days of history: an auto campaign (targets), a manual one with broad, phrase and
    exact keywords, terms written in several casings and with stray spaces, terms that converted only before the
    search-term window or only in its settling days, and terms that bleed."""
    import random
    from datetime import timedelta

    rnd = random.Random(seed)
    db = store.open_db(tmp_path / "w.db")
    camps = [("CA", "AUTO"), ("CM", "MANUAL")]
    groups = {"CA": ["GA1", "GA2"], "CM": ["GM1", "GM2", "GM3"]}
    kws, tgts, ads, tday, stday, cday, pday = [], [], [], [], [], [], []
    for g in groups["CA"]:
        for i in range(3):
            tgts.append(
                dict(
                    profile_id=P,
                    target_id=f"T{g}{i}",
                    campaign_id="CA",
                    ad_group_id=g,
                    expression_type="AUTO",
                    targeting=f"auto {i}",
                    state="ENABLED",
                    bid=0.9,
                )
            )
    for j, g in enumerate(groups["CM"]):
        for i, mt in enumerate(("BROAD", "PHRASE", "EXACT")):
            kws.append(
                dict(
                    profile_id=P,
                    keyword_id=f"K{g}{i}",
                    campaign_id="CM",
                    ad_group_id=g,
                    keyword_text=f"yoga mat {j}" if mt == "EXACT" else f"mat {j} {mt.lower()}",
                    match_type=mt,
                    state="ENABLED",
                    bid=1.1,
                )
            )
    for cid, gs in groups.items():
        for g in gs:
            for a in ("B0AAAAAAA1", "B0AAAAAAA2"):
                ads.append(
                    dict(
                        profile_id=P,
                        ad_id=f"AD{g}{a}",
                        campaign_id=cid,
                        ad_group_id=g,
                        asin=a,
                        sku=a.lower(),
                        state="ENABLED",
                    )
                )
    entity_ids = [(t["target_id"], t["campaign_id"], t["ad_group_id"], "TARGETING_EXPRESSION_PREDEFINED") for t in tgts]
    entity_ids += [(k["keyword_id"], k["campaign_id"], k["ad_group_id"], k["match_type"]) for k in kws]
    terms = [f"term {i}" for i in range(40)] + ["b0zzzzzzz1", "old converter", "settling converter"]
    spellings = lambda t: [t, t.upper(), f" {t.title()} "]  # noqa: E731
    for back in range(120):
        d = (AS_OF - timedelta(days=back)).isoformat()
        for cid, _ in camps:
            cday.append(
                dict(
                    profile_id=P,
                    date=d,
                    campaign_id=cid,
                    budget=20.0,
                    impressions=900,
                    clicks=30,
                    cost=19.5 if back < 6 else 12.0,
                    purchases_7d=3,
                    sales_7d=75.0,
                )
            )
            pday.append(
                dict(
                    profile_id=P,
                    date=d,
                    campaign_id=cid,
                    placement="Top of Search on-Amazon",
                    impressions=300,
                    clicks=10,
                    cost=6.0,
                    purchases_7d=2,
                    sales_7d=50.0,
                )
            )
        for eid, cid, g, mt in entity_ids:
            clicks = rnd.randint(0, 6)
            orders = sum(rnd.random() < 0.12 for _ in range(clicks))
            tday.append(
                dict(
                    profile_id=P,
                    date=d,
                    keyword_id=eid,
                    campaign_id=cid,
                    ad_group_id=g,
                    impressions=clicks * 40,
                    clicks=clicks,
                    cost=clicks * 0.8,
                    purchases_7d=orders,
                    sales_7d=orders * 25.0,
                )
            )
            for t in rnd.sample(terms, 4):
                clicks = rnd.randint(0, 3)
                if t in ("term 0", "term 1", "term 2"):  # bleeders: many clicks, never an order
                    orders = 0
                    clicks += 2
                elif t == "old converter":
                    orders = 1 if back > 80 and clicks else 0  # converted before the 60-day window only
                elif t == "settling converter":
                    orders = 1 if back < 2 and clicks else 0
                elif t in ("term 3", "term 4"):  # harvestable converters
                    clicks += 1
                    orders = int(rnd.random() < 0.45)
                else:
                    orders = sum(rnd.random() < 0.1 for _ in range(clicks))
                stday.append(
                    dict(
                        profile_id=P,
                        date=d,
                        keyword_id=eid,
                        search_term=rnd.choice(spellings(t)),
                        match_type=None if mt.startswith("TARGETING") else mt,
                        campaign_id=cid,
                        ad_group_id=g,
                        impressions=clicks * 30,
                        clicks=clicks,
                        cost=round(clicks * rnd.uniform(0.5, 1.2), 2),
                        purchases_7d=orders,
                        sales_7d=orders * 25.0,
                        purchases_14d=orders,
                        sales_14d=orders * 25.0,
                    )
                )
    with store.write(db):
        store.upsert_rows(
            db,
            "campaigns",
            [
                dict(
                    profile_id=P,
                    campaign_id=c,
                    name=c,
                    state="ENABLED",
                    targeting_type=t,
                    budget=20.0,
                    placement_top_pct=10.0,
                )
                for c, t in camps
            ],
        )
        store.upsert_rows(
            db,
            "ad_groups",
            [
                dict(profile_id=P, ad_group_id=g, campaign_id=c, name=g, state="ENABLED", default_bid=1.0)
                for c, gs in groups.items()
                for g in gs
            ],
        )
        for table, rows in (
            ("keywords", kws),
            ("targets", tgts),
            ("product_ads", ads),
            ("target_day", tday),
            ("search_term_day", stday),
            ("campaign_day", cday),
            ("placement_day", pday),
        ):
            store.upsert_rows(db, table, rows)
        store.upsert_rows(
            db,
            "negative_keywords",
            [
                dict(
                    profile_id=P,
                    keyword_id="N1",
                    campaign_id="CA",
                    ad_group_id="GA1",
                    keyword_text="term 2",
                    match_type="NEGATIVE_EXACT",
                    state="ENABLED",
                )
            ],
        )
    return db


def _reference_input(db, inp):
    """The loader as it was: every search-term row of the whole history and every keyword row of the longest
    lookback, nothing summed in SQL."""
    from dataclasses import replace
    from datetime import timedelta

    from services.optimizer.data import _frame, _metrics_sql

    whole = _frame(
        db,
        f"""SELECT date, campaign_id, ad_group_id, keyword_id AS entity_id, search_term, match_type, keyword_type,
        {_metrics_sql("7d")} FROM search_term_day WHERE profile_id = ? AND date BETWEEN '0000-01-01' AND ?""",
        [P, inp.as_of.isoformat()],
    )
    s = Settings()
    start = inp.as_of - timedelta(days=max(s.lookback_days, s.search_term_lookback_days) + 1)
    target_day = _frame(
        db,
        f"""SELECT date, keyword_id AS entity_id, campaign_id, ad_group_id, {_metrics_sql("7d")}
        FROM target_day WHERE profile_id = ? AND date BETWEEN ? AND ?""",
        [P, start.isoformat(), inp.as_of.isoformat()],
    )
    return replace(
        inp,
        search_term_day=whole,
        search_term_history=None,
        target_day=target_day,
        target_day_counts=None,
        ad_group_totals=None,
        search_term_totals=None,
        totals_window=None,
        memo={},
    )


def test_windowed_load_and_sql_history_give_the_same_suggestions(tmp_path):
    import pandas as pd

    from services.optimizer import optimize
    from services.optimizer.settings import Settings

    db = _world(tmp_path)
    inp = load_input(db, P, as_of=AS_OF, settings=Settings())
    ref = _reference_input(db, inp)
    assert inp.search_term_day.empty and len(inp.search_term_totals) < len(ref.search_term_day)  # summed in SQL
    assert len(inp.target_day) < len(ref.target_day)  # keyword days only over the bid rule's lookback
    fast, slow = optimize(inp, Settings()), optimize(ref, Settings())
    assert {"bid", "negative", "harvest"} <= set(slow["type"]), slow["type"].value_counts()
    negated = set(slow.loc[slow["type"] == "negative", "search_term"].str.strip().str.lower())
    assert "old converter" not in negated  # its orders before the window still count
    assert "term 0" in negated
    key = ["suggestion_key"]
    fast, slow = fast.sort_values(key).reset_index(drop=True), slow.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-9)


def test_the_syncs_span_of_the_rules_window_gives_the_same_sums_and_suggestions(tmp_path):
    """The sync sums the rules' default search-term window once (sync.summaries); the loader reads that span
    instead of summing the days, and nothing the rules see changes."""
    import pandas as pd

    from services.optimizer import optimize
    from services.sync.summaries import rebuild_term_spans

    db = _world(tmp_path)
    summed = load_input(db, P, as_of=AS_OF, settings=Settings())
    built = rebuild_term_spans(db, P)
    start, end = (d.isoformat() for d in summed.totals_window)
    assert built[f"{start}..{end}"] == len(summed.search_term_totals) > 0
    read = load_input(db, P, as_of=AS_OF, settings=Settings())
    key = ["entity_id", "search_term"]
    a = summed.search_term_totals.sort_values(key).reset_index(drop=True)
    b = read.search_term_totals.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b[list(a.columns)], check_dtype=False)
    with store.write(db):  # proof that the second load read the span: change it, and the loader's sums follow
        db.conn.execute("UPDATE search_term_span SET clicks = clicks + 1000 WHERE profile_id = ?", [P])
    bumped = load_input(db, P, as_of=AS_OF, settings=Settings()).search_term_totals
    assert bumped["clicks"].sum() == a["clicks"].sum() + 1000 * len(a)
    suggestions = ["suggestion_key"]
    fast = optimize(read, Settings()).sort_values(suggestions).reset_index(drop=True)
    slow = optimize(summed, Settings()).sort_values(suggestions).reset_index(drop=True)
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-9)


def test_term_history_reads_only_the_converted_rows_index(tmp_path):
    """ "Did this term ever convert" reads the partial index of rows with an order (store m008), in (ad group, term)
    order, not every search-term row of the history with a sort (2 s of the optimizer on the large profile)."""
    from services.optimizer.data import search_term_history_sql

    db = _world(tmp_path)
    for attribution in ("7d", "14d"):
        plan = " ".join(
            str(r[-1]) for r in db.conn.execute("EXPLAIN QUERY PLAN " + search_term_history_sql(attribution), [P, "x"])
        )
        assert "COVERING INDEX idx_search_term_day_converted" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # already grouped: no sort
    # the index holds the rows with an order in either window, and only those
    indexed = db.conn.execute(
        "SELECT count(*) FROM search_term_day INDEXED BY idx_search_term_day_converted WHERE profile_id = ? "
        "AND (purchases_7d <> 0 OR purchases_14d <> 0)",
        [P],
    ).fetchone()[0]
    rows = db.conn.execute(
        "SELECT count(*) FROM search_term_day WHERE coalesce(purchases_7d, 0) <> 0 OR coalesce(purchases_14d, 0) <> 0"
    ).fetchone()[0]
    assert indexed == rows > 0


def _assert_same_curves(got: dict, want: dict) -> None:
    import numpy as np

    for e, c in want.items():
        f = got[e]
        assert (f.days, f.source) == (c.days, c.source), e
        assert np.allclose(
            [f.level, f.ceiling, f.cpc_ratio, f.log_sd], [c.level, c.ceiling, c.cpc_ratio, c.log_sd], rtol=1e-9, atol=0
        ), e


def _assert_same_suggestions(inp, ref, margins, settings):
    """The optimizer's suggestions on both inputs equal (by key); returns the reference's."""
    from dataclasses import replace

    import pandas as pd

    from services.optimizer import optimize

    a = optimize(replace(inp, margins=margins, memo={}), settings)
    b = optimize(replace(ref, margins=margins, memo={}), settings)
    key = ["suggestion_key"]
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
    return b


def _curves(inp):
    from services.optimizer.bids import target_curves
    from services.optimizer.model import _in_window, _num, window

    s = Settings()
    days = _num(_in_window(inp.target_day, *window(inp.as_of, s.lookback_days, s.settling_days)))
    for c in ("entity_id", "campaign_id", "ad_group_id"):
        days[c] = days[c].astype(str)
    return target_curves(inp, days)


def test_loader_leaves_out_zero_days_but_not_of_changed_bids(tmp_path):
    """The loader reads only the keyword days with a click, cost, order or sale, counts the others, and keeps every
    day of a keyword whose bid changed: the response curves (pooled per ad group) and the suggestions equal those
    of every day read, also with a target whose every day was zero, an ad group with no click yet (its zero totals
    still set the ad groups' mean rate) and with min_clicks 0 (a keyword without a click then gets a bid suggestion
    too)."""
    from dataclasses import replace
    from datetime import timedelta

    import pandas as pd

    from services.optimizer import optimize
    from services.optimizer.suggestions import ensure_schema

    db = _world(tmp_path)
    ensure_schema(db)
    with store.write(db):
        db.conn.execute(
            "UPDATE target_day SET impressions = 0, clicks = 0, cost = 0, purchases_7d = 0, sales_7d = 0 "
            "WHERE keyword_id = 'TGA10'"
        )
        # a new ad group: no day before the keyword rows the loader reads, and not a click since
        recent = (AS_OF - timedelta(days=31)).isoformat()
        db.conn.execute("DELETE FROM target_day WHERE ad_group_id = 'GA2' AND date < ?", [recent])
        db.conn.execute(
            "UPDATE target_day SET impressions = 0, clicks = 0, cost = 0, purchases_7d = 0, sales_7d = 0 "
            "WHERE ad_group_id = 'GA2'"
        )
        db.conn.execute(
            "INSERT INTO change_history (change_id, account_id, profile_id, applied_at, change_type, action, "
            "entity_id, old_value, new_value, ok) VALUES ('c1', 'A', ?, ?, 'bid', 'update', 'KGM10', '0.7', '1.1', 1)",
            [P, (AS_OF - timedelta(days=12)).isoformat() + "T09:00:00+00:00"],
        )
    inp = load_input(db, P, as_of=AS_OF, settings=Settings(), account_id="A")
    counts = dict(zip(inp.target_day_counts["entity_id"], inp.target_day_counts["days"]))
    window_days = inp.target_day[inp.target_day["date"] >= (AS_OF - timedelta(days=29)).isoformat()]
    window_days = window_days[window_days["date"] <= (AS_OF - timedelta(days=3)).isoformat()]
    assert (window_days["entity_id"] == "KGM10").sum() == counts["KGM10"] == 27  # zero days kept: its bid moved
    assert "TGA10" not in set(inp.target_day["entity_id"]) and counts["TGA10"] == 27
    other = window_days[window_days["entity_id"] == "KGM11"]
    assert 0 < len(other) < counts["KGM11"] and (other["clicks"] > 0).all()
    assert not (inp.target_day["ad_group_id"] == "GA2").any()
    silent = inp.ad_group_totals[inp.ad_group_totals["ad_group_id"] == "GA2"]
    assert len(silent) == 1 and silent.iloc[0][["orders", "clicks", "sales"]].sum() == 0  # still there, with zeros
    ref = _reference_input(db, inp)
    assert len(ref.target_day) > len(inp.target_day)
    fast, slow = _curves(inp), _curves(ref)
    assert set(fast) == set(slow) and fast["KGM10"].days == 27
    _assert_same_curves(fast, slow)
    margins = pd.DataFrame({"asin": ["B0AAAAAAA1", "B0AAAAAAA2"], "margin": [0.4, 0.4]})
    for settings in (Settings(), Settings(min_clicks=0, min_orders_raise=0)):
        b = _assert_same_suggestions(inp, ref, margins, settings)
        assert "bid" in set(b["type"]), b["type"].value_counts()
    zero_click = optimize(replace(inp, memo={}), Settings(min_clicks=0, min_orders_raise=0))
    assert "TGA10" in set(zero_click.loc[zero_click["type"] == "bid", "entity_id"])

    # the sync's sums of both windows (store m010): only the keyword whose bid moved is read day by day, every day
    from services.sync.summaries import rebuild_target_spans

    assert set(rebuild_target_spans(db, P).values()) == {len(inp.entities)}
    spans = load_input(db, P, as_of=AS_OF, settings=Settings(), account_id="A")
    assert set(spans.target_day["entity_id"]) == {"KGM10"} and spans.target_day_counts is None
    held = spans.target_totals.set_index("entity_id")
    assert "KGM10" not in held.index and held.loc["TGA10", "days"] == 27 and held.loc["TGA10", "clicks"] == 0
    assert held.loc["KGM11", "clicks"] == other["clicks"].sum()
    pd.testing.assert_frame_equal(
        spans.ad_group_totals.sort_values(["campaign_id", "ad_group_id"]).reset_index(drop=True),
        inp.ad_group_totals.sort_values(["campaign_id", "ad_group_id"]).reset_index(drop=True),
        check_dtype=False,
    )
    summed = _curves(spans)
    assert set(summed) == set(slow)
    _assert_same_curves(summed, slow)
    for settings in (Settings(), Settings(min_clicks=0, min_orders_raise=0)):
        _assert_same_suggestions(spans, ref, margins, settings)
    with store.write(db):  # a keyword report over the window's days makes the sums stale: the days are read again
        store.replace_window(db, "target_day", P, AS_OF.isoformat(), AS_OF.isoformat(), [])  # a settling day
    assert load_input(db, P, as_of=AS_OF, settings=Settings(), account_id="A").target_totals is not None
    with store.write(db):
        day = (AS_OF - timedelta(days=5)).isoformat()
        store.replace_window(db, "target_day", P, day, day, [])
    assert load_input(db, P, as_of=AS_OF, settings=Settings(), account_id="A").target_totals is None
