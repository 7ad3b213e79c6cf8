"""The job queue syncs many accounts: SQLite storage (the default) and Redis storage run the same job code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT
from services import connect
from services.accounts import add_account, connect_demo
from services.jobs import records
from services.jobs.cli import main as jobs_main
from services.jobs.queue import make_queue, queue_file
from services.secrets.vault import Vault
from services.store import open_db


@pytest.fixture()
def agency(tmp_path, sandbox, monkeypatch):
    """A store with the demo seller and a seller whose authorization was revoked; keys from the environment,
    as a worker on a server would have them."""
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("DASHBOARD_SECRET_KEYS", key)
    path = tmp_path / "agency.db"
    db, vault = open_db(path), Vault(secret_keys=key)
    from sandbox import demo_credentials

    demo = connect_demo(db, vault, sandbox.url, demo_credentials())
    revoked = add_account(
        db,
        vault,
        "Revoked seller",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        AUTHORIZATIONS["revoked"]["refresh_token"],
        backend="sandbox",
        sandbox_url=sandbox.url,
    )
    return path, db, demo, revoked


def _run_jobs(queue, job_ids, timeout=240):
    consumer = queue.consumer(workers=2)
    consumer.start()
    try:
        return {jid: queue.results[jid].get(blocking=True, timeout=timeout) for jid in job_ids}
    finally:
        consumer.stop(graceful=True)


def test_sqlite_queue_syncs_every_account_and_a_revoked_one_fails_alone(agency):
    path, db, demo, revoked = agency
    queue = make_queue(path)
    assert queue_file(path).name == "agency.db.jobs"
    jobs = {queue.enqueue_sync(revoked, days=3): revoked, queue.enqueue_sync(demo, days=3): demo}
    assert {r["status"] for r in records.job_runs(db)} == {"queued"}
    results = _run_jobs(queue, list(jobs))
    by_account = {jobs[jid]: res for jid, res in results.items()}
    assert by_account[revoked]["status"] == "reconnect_needed"
    assert by_account[demo]["status"] == "ok" and by_account[demo]["rows"] > 0
    outcome = {r["account_id"]: r for r in records.job_runs(db)}
    assert outcome[demo]["status"] == "ok" and outcome[demo]["finished_at"]
    assert outcome[revoked]["status"] == "reconnect_needed" and "Reconnect" in outcome[revoked]["error"]
    assert db.conn.execute("SELECT COUNT(*) FROM campaign_day").fetchone()[0] > 0
    assert "Atzr|" not in str(records.job_runs(db))  # no token in what the Connect page shows
    shown = connect.scheduled_runs(db, revoked)
    assert shown.loc[0, "Outcome"] == "Reconnect needed" and "Reconnect" in shown.loc[0, "Reason"]
    assert connect.scheduled_runs(db, demo).loc[0, "Outcome"] == "Synced"


def test_redis_queue_runs_the_same_job_code(agency, redis_url):
    path, db, demo, _ = agency
    queue = make_queue(path, redis_url)
    assert type(queue.huey).__name__ == "RedisHuey" and not queue_file(path).exists()
    jid = queue.enqueue_sync(demo, days=2)
    assert queue.pending() == 1  # the job sits in Redis until a worker takes it
    res = _run_jobs(queue, [jid])[jid]
    assert res["status"] == "ok" and res["rows"] > 0
    assert records.job_runs(db, demo)[0]["status"] == "ok"


def test_schedule_enqueues_due_accounts_once_and_skips_those_needing_reconnect(agency):
    path, db, demo, revoked = agency
    db.conn.execute("UPDATE accounts SET status = 'reconnect_needed' WHERE account_id = ?", [revoked])
    queue = make_queue(path)
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert len(queue.schedule_due(now)) == 1  # the demo seller, daily by default
    assert queue.schedule_due(now + timedelta(hours=1)) == []  # not due again within the day
    assert len(queue.schedule_due(now + timedelta(hours=24))) == 1
    records.set_schedule(db, demo, 6)
    assert records.due_accounts(db, now + timedelta(hours=25)) == []  # next run already set a day on
    with pytest.raises(ValueError, match="1 to 168 hours"):
        records.set_schedule(db, demo, 0)
    assert queue.pending() == 2 and {r["account_id"] for r in records.job_runs(db)} == {demo}


def test_cli_refuses_bad_input_with_a_sentence(agency, capsys):
    path, *_ = agency
    assert jobs_main(["enqueue", "--db", str(path)]) == 2
    assert "needs --account NAME" in capsys.readouterr().err
    assert jobs_main(["enqueue", "--db", str(path), "--account", "Nobody"]) == 2
    assert "No account named 'Nobody'" in capsys.readouterr().err
    assert jobs_main(["set-schedule", "--db", str(path), "--account", "Demo Seller", "--every", "500"]) == 2
    assert "1 to 168 hours" in capsys.readouterr().err
    assert jobs_main(["schedule", "--db", str(path), "--queue-url", "http://x"]) == 2
    assert jobs_main(["schedule", "--db", str(path)]) == 0
    assert "2 sync job(s) queued." in capsys.readouterr().out


def test_schedule_enqueues_autopilot_runs_only_where_the_seller_turned_it_on(agency):
    """The autopilot's schedule is stored like the sync's (job_schedules, kind 'autopilot') but is opt-in."""
    path, db, demo, revoked = agency
    queue = make_queue(path)
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    first = queue.schedule_due_by_kind(now)
    assert len(first["sync"]) == 2 and first["autopilot"] == []  # nobody turned the autopilot on
    connect.set_autopilot_schedule(db, demo, 12, enabled=True)
    assert connect.autopilot_schedule(db, demo) == {"every_hours": 12, "enabled": True, "next_run_at": None}
    second = queue.schedule_due_by_kind(now + timedelta(hours=1))
    assert second["sync"] == [] and len(second["autopilot"]) == 1
    assert queue.schedule_due_by_kind(now + timedelta(hours=2))["autopilot"] == []  # not due again for 12 h
    assert len(queue.schedule_due_by_kind(now + timedelta(hours=13))["autopilot"]) == 1
    connect.set_autopilot_schedule(db, demo, 12, enabled=False)
    assert queue.schedule_due_by_kind(now + timedelta(hours=30))["autopilot"] == []
    kinds = [(r["account_id"], r["kind"]) for r in records.job_runs(db)]
    assert kinds.count((demo, "autopilot")) == 2 and (revoked, "autopilot") not in kinds
    assert connect.scheduled_runs(db, demo).loc[0, "Job"] in ("Autopilot", "Sync")


def test_an_autopilot_job_syncs_runs_and_its_outcome_shows_on_connect(agency):
    """The job's code end to end on the SQLite queue (a dry run, so the shared sandbox is left as it was); the
    revoked seller's run fails alone, with the reconnect sentence, and changes nothing."""
    from services.optimizer import autopilot

    path, db, demo, revoked = agency
    queue = make_queue(path)
    jobs = {
        queue.enqueue_autopilot(demo, days=14, dry_run=True): demo,
        queue.enqueue_autopilot(revoked, days=3): revoked,
    }
    results = {jobs[j]: r for j, r in _run_jobs(queue, list(jobs), timeout=600).items()}
    assert results[demo]["status"] == "ok" and results[demo]["runs"], results[demo]
    assert results[revoked]["status"] == "reconnect_needed"
    runs = autopilot.runs(db, demo)
    assert set(runs["status"]) == {"dry-run"} and len(runs) == len(results[demo]["runs"])
    shown = connect.scheduled_runs(db, demo).iloc[0]
    assert (shown["Job"], shown["Outcome"]) == ("Autopilot", "Ran")
    assert shown["Result"].startswith("dry run: ") and shown["Result"].endswith("nothing changed")
    refused = connect.scheduled_runs(db, revoked).iloc[0]
    assert (refused["Job"], refused["Outcome"]) == ("Autopilot", "Reconnect needed")
    assert "changed nothing" in refused["Reason"]
    assert autopilot.runs(db, revoked).empty
