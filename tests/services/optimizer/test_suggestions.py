"""Suggestion persistence, review, apply and undo against the sandbox over HTTP."""

from __future__ import annotations

import pandas as pd
import pytest

from services import optimizer as sugg
from services.optimizer import Settings
from services.store import write


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A sandbox of its own (it gets changed), one profile synced into a temp store."""
    from sandbox import demo_credentials, start_sandbox
    from services import accounts, store, sync
    from services.secrets.vault import Vault

    h = start_sandbox(port=0, seed=11, scale="demo", report_latency=0.05)
    path = tmp_path_factory.mktemp("sugg") / "store.db"
    db = store.open_db(path)
    vault = Vault(db_path=path)
    account_id = accounts.connect_demo(db, vault, h.url, demo_credentials())
    pid = str(h.world.profiles()[0]["profileId"])
    sync.sync_account(path, account_id, vault, profile_ids=[pid], days=45)
    client = sugg.client_for_profile(db, vault, account_id, pid)
    yield {"h": h, "db": db, "account_id": account_id, "pid": pid, "client": client}
    h.stop()


def test_generate_saves_pending_grouped_and_filterable(synced):
    db, acc, pid = synced["db"], synced["account_id"], synced["pid"]
    df = sugg.generate(db, acc, pid)
    assert not df.empty and set(df["status"]) == {"pending"}
    assert {"bid", "negative"} <= set(df["type"])
    # what generate returns (the rows it wrote, not read back) is what the page lists: same rows, columns, order
    listed = sugg.list_suggestions(db, acc, pid)
    assert list(df.columns) == list(listed.columns)
    pd.testing.assert_frame_equal(df, listed, check_dtype=False)
    summary = sugg.summary_by_type(db, acc, pid)
    assert summary["count"].sum() == len(df)
    bids = sugg.list_suggestions(db, acc, pid, types=["bid"], sort_by="expected_spend_change", ascending=True)
    assert set(bids["type"]) == {"bid"}
    assert bids["expected_spend_change"].is_monotonic_increasing
    term = df.loc[df["type"] == "negative", "search_term"].iloc[0]
    found = sugg.list_suggestions(db, acc, pid, search=term[:8])
    assert (
        found["search_term"].fillna("").str.contains(term[:8], regex=False)
        | found["keyword_text"].fillna("").str.contains(term[:8], regex=False)
        | found["campaign_name"].fillna("").str.lower().str.contains(term[:8].lower(), regex=False)
        | found["ad_group_name"].fillna("").str.lower().str.contains(term[:8].lower(), regex=False)
    ).all()
    # re-running replaces pending rows instead of piling them up: the table holds this run's rows only
    again = sugg.generate(db, acc, pid)
    assert len(again) == len(df)
    held = db.conn.execute("SELECT count(*) FROM suggestions WHERE account_id = ? AND profile_id = ?", [acc, pid])
    assert held.fetchone()[0] == len(again)
    csv = sugg.export_suggestions_csv(again)
    assert csv.startswith(b"\xef\xbb\xbf")


def test_a_replaced_suggestion_that_history_names_is_kept(synced):
    """A replaced suggestion goes, unless the change history or the apply journal names it: then it stays, marked
    superseded, so the history can still say why a change was made."""
    db, acc, pid = synced["db"], synced["account_id"], synced["pid"]
    first = sugg.generate(db, acc, pid)
    bids = first[first["type"] == "bid"]
    named, journaled, plain = bids["suggestion_id"].iloc[:3]
    entity = bids["entity_id"].iloc[0]
    with write(db):
        db.conn.execute(
            "INSERT INTO change_history (change_id, account_id, profile_id, suggestion_id, applied_at, change_type, "
            "action, entity_id, ok) VALUES ('c-test', ?, ?, ?, '2026-01-01T00:00:00', 'bid', 'update', ?, 1)",
            [acc, pid, named, entity],
        )
        db.conn.execute(
            "INSERT INTO apply_journal (entry_id, batch_id, account_id, profile_id, suggestion_id, change_type, "
            "method, kind, payload, action, journaled_at) VALUES ('j-test', 'b-test', ?, ?, ?, 'bid', 'PUT', "
            "'keyword', '{}', 'update', '2026-01-01T00:00:00')",
            [acc, pid, journaled],
        )
    try:
        sugg.generate(db, acc, pid)
        status = dict(
            db.conn.execute(
                "SELECT suggestion_id, status FROM suggestions WHERE suggestion_id IN (?, ?, ?)",
                [named, journaled, plain],
            ).fetchall()
        )
        assert status == {named: "superseded", journaled: "superseded"}
    finally:
        with write(db):  # leave the module's store as the other tests expect it
            db.conn.execute("DELETE FROM change_history WHERE change_id = 'c-test'")
            db.conn.execute("DELETE FROM apply_journal WHERE entry_id = 'j-test'")


def test_review_actions(synced):
    db, acc, pid = synced["db"], synced["account_id"], synced["pid"]
    df = sugg.list_suggestions(db, acc, pid)
    a, b, c = df["suggestion_id"].iloc[:3]
    assert sugg.reject(db, [a], note="not now") == 1
    assert sugg.snooze(db, [b], days=7) == 1
    assert sugg.approve(db, [c]) == 1
    statuses = sugg.list_suggestions(db, acc, pid, statuses=None).set_index("suggestion_id")["status"]
    assert (statuses[a], statuses[b], statuses[c]) == ("rejected", "snoozed", "approved")
    # rejected / snoozed / approved keys are not re-suggested on the next run
    keys = set(
        sugg.list_suggestions(db, acc, pid, statuses=None).set_index("suggestion_id").loc[[a, b, c], "suggestion_key"]
    )
    sugg.generate(db, acc, pid)
    pending = sugg.list_suggestions(db, acc, pid)
    assert not keys & set(pending["suggestion_key"])
    assert sugg.reset(db, [a, b, c]) == 3


def test_apply_requires_confirmation(synced):
    with pytest.raises(sugg.ConfirmationRequired):
        sugg.apply_approved(synced["db"], synced["client"], synced["account_id"], synced["pid"])
    with pytest.raises(sugg.ConfirmationRequired):
        sugg.undo(synced["db"], synced["client"], ["x"], confirmed="yes")


def test_apply_and_undo_through_the_api(synced):
    db, acc, pid, client, world = synced["db"], synced["account_id"], synced["pid"], synced["client"], synced["h"].world
    df = sugg.generate(db, acc, pid)
    pick = pd.concat([df[df["type"] == t].head(2) for t in ("bid", "negative", "harvest", "budget", "placement")])
    sugg.approve(db, pick["suggestion_id"])
    report = sugg.apply_approved(db, client, acc, pid, confirmed=True)
    assert report.items and report.failed == 0
    after = sugg.list_suggestions(db, acc, pid, statuses=None).set_index("suggestion_id")
    assert set(after.loc[list(pick["suggestion_id"]), "status"]) == {"applied"}
    hist = sugg.change_history(db, acc, pid)
    assert len(hist) == len(report.items) and hist["ok"].all()
    assert {"applied_at", "change_type", "old_value", "new_value", "amazon_result", "suggestion_id"} <= set(
        hist.columns
    )
    # Amazon (the sandbox) really has the new bid
    bid = pick[pick["type"] == "bid"].iloc[0]
    kind = "keywords" if bid["entity_kind"] == "keyword" else "targets"
    ent = world.get_entity(pid, kind, bid["entity_id"])
    assert float(ent["bid"]) == pytest.approx(bid["proposed_value"])
    created = hist[hist["action"] == "create"]
    assert not created.empty and created["entity_id"].notna().all()
    markers = sugg.change_markers(db, acc, pid)
    assert list(markers.columns)[:3] == ["applied_at", "date", "change_type"] and markers["count"].sum() == len(hist)

    undone = sugg.undo(db, client, hist["change_id"], confirmed=True)
    assert undone.failed == 0 and len(undone.items) == len(hist)
    ent = world.get_entity(pid, kind, bid["entity_id"])
    assert float(ent["bid"]) == pytest.approx(bid["current_value"])
    for r in created.itertuples():
        k = "keywords" if r.change_type == "keyword" else "negativeKeywords"
        assert world.get_entity(pid, k, r.entity_id)["state"] == "ARCHIVED"
    hist2 = sugg.change_history(db, acc, pid)
    originals = hist2[hist2["undo_of"].isna()]
    assert originals["undone_at"].notna().all()
    # undoing twice does nothing
    assert sugg.undo(db, client, hist["change_id"], confirmed=True).items == []


def test_amazon_item_errors_are_reported_per_item(synced):
    db, acc, pid, client = synced["db"], synced["account_id"], synced["pid"], synced["client"]
    df = sugg.generate(db, acc, pid)
    bid = df[df["type"] == "bid"].iloc[0]
    with write(db):
        db.conn.execute(
            "UPDATE suggestions SET entity_id = '999999', status = 'approved' WHERE suggestion_id = ?",
            [bid["suggestion_id"]],
        )
    report = sugg.apply_approved(db, client, acc, pid, confirmed=True)
    item = report.items[0]
    assert not item["ok"] and item["message"]
    status = sugg.list_suggestions(db, acc, pid, statuses=["failed"])
    assert bid["suggestion_id"] in set(status["suggestion_id"])


def test_settings_and_margins(synced):
    db, acc = synced["db"], synced["account_id"]
    sugg.save_settings(db, acc, Settings(target_acos=0.22, min_bid=0.3))
    sugg.save_settings(db, acc, {"target_acos": 0.4}, campaign_id="C9")
    book = sugg.get_settings_book(db, acc)
    assert book.account.target_acos == 0.22 and book.for_campaign("C9").target_acos == 0.4
    assert book.for_campaign("C9").min_bid == 0.3
    with pytest.raises(ValueError):
        sugg.save_settings(db, acc, Settings(min_bid=3, max_bid=1))
    n, problems = sugg.import_margins_csv(db, acc, "asin,margin\nB000000001,35%\nB000000002,0.2\n,0.3\nB3,abc\n")
    assert n == 2 and len(problems) == 2
    n, _ = sugg.import_margins_csv(db, acc, b"\xef\xbb\xbfASIN,price,cost\nB000000003,20,15\n")
    assert n == 1
    m = sugg.margins_frame(db, acc).set_index("asin")
    assert m.loc["B000000001", "break_even_acos"] == pytest.approx(0.35)
    assert m.loc["B000000003", "margin"] == pytest.approx(0.25)
    assert m.loc["B000000003", "default_target_acos"] == pytest.approx(
        0.125
    )  # half of break-even (Settings.break_even_share)
    sugg.save_settings(db, acc, Settings())
