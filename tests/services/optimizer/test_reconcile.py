"""Reconciliation of the apply journal, with a scripted Amazon (list endpoints only: it must never be written to).

The end-to-end kill-at-each-step test against the sandbox is `test_apply_chaos.py`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services import optimizer as sugg
from services.errors import AmazonUnavailable
from services.optimizer import journal
from services.optimizer.actions import Action
from services.optimizer.reconcile import main as reconcile_main
from services.store import open_db, write

ACC, PID = "acc-1", "111"


class ListOnlyAmazon:
    """Answers list calls from `held`; any write is a test failure (reconciliation only reads)."""

    def __init__(self, held: dict[str, list[dict]] | None = None, down: bool = False) -> None:
        self.held, self.down, self.calls = held or {}, down, []

    def list_entities(self, profile_id, kind, filters=None):
        self.calls.append((kind, filters))
        if self.down:
            raise AmazonUnavailable("Amazon is not responding right now (it answered 503, 6 tries).")
        return list(self.held.get(kind, []))

    def create(self, *a, **k):
        raise AssertionError("reconciliation or a refused apply must not write to Amazon")

    update = archive = create


@pytest.fixture()
def db(tmp_path):
    d = open_db(tmp_path / "store.db")
    sugg.ensure_schema(d)
    with write(d):
        for sid in ("s-bid", "s-target", "s-neg"):
            d.conn.execute(
                "INSERT INTO suggestions (suggestion_id, suggestion_key, account_id, profile_id, created_at, status, "
                "type) VALUES (?, ?, ?, ?, '2026-01-01', 'approved', 'bid')",
                [sid, sid, ACC, PID],
            )
    return d


def _actions() -> list[Action]:
    common = dict(campaign_id="c1", ad_group_id="ag1", entity_name="x")
    return [
        Action(
            suggestion_id="s-bid",
            change_type="bid",
            method="update",
            kind="keywords",
            payload={"keywordId": "k1", "bid": 1.25},
            entity_kind="keyword",
            entity_id="k1",
            field="bid",
            old_value=1.0,
            new_value=1.25,
            **common,
        ),
        Action(
            suggestion_id="s-target",
            change_type="bid",
            method="update",
            kind="targets",
            payload={"targetId": "t1", "bid": 0.4},
            entity_kind="target",
            entity_id="t1",
            field="bid",
            old_value=0.5,
            new_value=0.4,
            **common,
        ),
        Action(
            suggestion_id="s-neg",
            change_type="negative",
            method="create",
            kind="negativeKeywords",
            payload={
                "campaignId": "c1",
                "adGroupId": "ag1",
                "keywordText": "Free Sample",
                "matchType": "NEGATIVE_EXACT",
                "state": "ENABLED",
            },
            entity_kind="negative_keyword",
            entity_id=None,
            field="state",
            old_value=None,
            new_value="ENABLED",
            **common,
        ),
    ]


def _orphan_batch(db) -> list[Action]:
    """Journaled by a process that then died: the batch is no longer in flight anywhere."""
    actions = _actions()
    batch, _ = journal.open_batch(db, ACC, PID, actions)
    journal.close_batch(batch)
    return actions


def _amazon_after_a_crash() -> ListOnlyAmazon:
    """The bid update and the negative landed; the target update did not (Amazon still has the old bid)."""
    return ListOnlyAmazon(
        {
            "keywords": [{"keywordId": "k1", "adGroupId": "ag1", "bid": 1.25, "state": "ENABLED"}],
            "targets": [{"targetId": "t1", "adGroupId": "ag1", "bid": 0.5, "state": "ENABLED"}],
            "negativeKeywords": [
                {"keywordId": "n9", "adGroupId": "ag1", "keywordText": "free sample", "matchType": "NEGATIVE_EXACT"}
            ],
        }
    )


def test_nothing_pending_costs_one_lookup_and_no_client(db):
    # vault=None would fail if a client were built: the app-start path must stay this cheap
    report = sugg.reconcile_account(db, None, ACC)
    assert (report.applied, report.not_applied, report.unresolved) == (0, 0, 0)


def test_records_what_amazon_holds_and_leaves_not_applied_suggestions_approved(db):
    _orphan_batch(db)
    amazon = _amazon_after_a_crash()
    report = sugg.reconcile_profile(db, amazon, ACC, PID)
    assert (report.applied, report.not_applied, report.unresolved) == (2, 1, 0)
    negative_lookup = next(f for k, f in amazon.calls if k == "negativeKeywords")
    assert negative_lookup["adGroupIdFilter"] == {"include": ["ag1"]}
    assert negative_lookup["negativeKeywordTextFilter"]["include"] == ["Free Sample"]
    assert negative_lookup["matchTypeFilter"] == ["NEGATIVE_EXACT"]

    history = sugg.change_history(db, ACC, PID).set_index("suggestion_id")
    assert set(history.index) == {"s-bid", "s-neg"}  # nothing changed on Amazon for the target: no history row
    assert history.loc["s-neg", "entity_id"] == "n9" and history.loc["s-neg", "ok"] == 1
    status = sugg.list_suggestions(db, ACC, PID, statuses=None).set_index("suggestion_id")["status"]
    assert status.to_dict() == {"s-bid": "applied", "s-target": "approved", "s-neg": "applied"}
    assert not journal.has_sending(db, ACC)
    # a second run (or another process) finds nothing left and writes nothing twice
    assert sugg.reconcile_profile(db, amazon, ACC, PID).applied == 0
    assert len(sugg.change_history(db, ACC, PID)) == 2


def test_amazon_unreadable_keeps_entries_and_apply_refuses_to_send(db):
    _orphan_batch(db)
    down = ListOnlyAmazon(down=True)
    report = sugg.reconcile_profile(db, down, ACC, PID)
    assert report.unresolved == 3 and journal.has_sending(db, ACC, PID)
    with pytest.raises(sugg.UnsettledChanges, match="nothing was sent"):
        sugg.apply_approved(db, down, ACC, PID, confirmed=True)
    assert sugg.change_history(db, ACC, PID).empty


def test_entries_of_a_live_process_are_left_alone_and_not_sent_again(db):
    actions = _actions()
    journal.open_batch(db, ACC, PID, actions)
    with write(db):  # journaled by another live process on this machine
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        db.conn.execute("UPDATE apply_journal SET pid = ?, batch_id = 'other'", [sleeper.pid])
    try:
        amazon = ListOnlyAmazon()
        report = sugg.reconcile_profile(db, amazon, ACC, PID)
        assert report.in_flight == 3 and amazon.calls == []
        assert journal.busy_suggestions(db, ACC, PID) == {"s-bid", "s-target", "s-neg"}
    finally:
        sleeper.kill()
        sleeper.wait()
    report = sugg.reconcile_profile(db, _amazon_after_a_crash(), ACC, PID)
    assert report.applied == 2  # once that process is gone, its entries are settled


def test_cli_says_what_is_wrong_in_one_sentence(tmp_path, db, capsys):
    assert reconcile_main(["--db", str(tmp_path / "missing.db"), "--account", "x"]) == 2
    assert "No database file" in capsys.readouterr().err
    path = Path(db.conn.execute("PRAGMA database_list").fetchone()[2])
    assert reconcile_main(["--db", str(path), "--account", "nobody"]) == 2
    assert "No account named 'nobody'" in capsys.readouterr().err


def test_two_applies_racing_never_journal_the_same_suggestion_twice(db):
    """Both sessions read the approved list before either journaled: the second journal write leaves it out."""
    first, kept_first = journal.open_batch(db, ACC, PID, _actions())
    second, kept_second = journal.open_batch(db, ACC, PID, _actions())
    assert len(kept_first) == 3 and kept_second == []
    with write(db):
        db.conn.execute("UPDATE suggestions SET status = 'applied' WHERE suggestion_id = 's-bid'")
        db.conn.execute("DELETE FROM apply_journal")
    _, kept_third = journal.open_batch(db, ACC, PID, _actions())
    assert [a.suggestion_id for a in kept_third] == ["s-target", "s-neg"]  # no longer approved: not sent again
    for batch in (first, second):
        journal.close_batch(batch)
