"""An agency's load: 20 sellers synced through the queue against a sandbox that enforces a per-profile rate.

The sandbox allows each profile 10 Ads calls a second (bursts of 20) and counts every 429 by cause; the queue
spaces each profile's calls to 5 a second, so none of the 429s may come from our own bursts. A revoked seller
among them fails alone.
"""

from __future__ import annotations

import pytest
import requests
from cryptography.fernet import Fernet

from sandbox import start_sandbox
from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT, agency_credentials
from services.accounts import add_account
from services.jobs import records
from services.jobs.queue import make_queue
from services.secrets.vault import Vault
from services.store import open_db

SELLERS = 20
SANDBOX_RATE = 10.0


@pytest.fixture(scope="module")
def agency_sandbox():
    handle = start_sandbox(port=0, seed=5, scale="demo", report_latency=0.2, sellers=SELLERS, rate_limit=SANDBOX_RATE)
    yield handle
    handle.stop()


def test_twenty_sellers_through_the_queue_without_a_self_inflicted_429(agency_sandbox, tmp_path, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("DASHBOARD_SECRET_KEYS", key)
    path = tmp_path / "agency.db"
    db, vault = open_db(path), Vault(secret_keys=key)
    url = agency_sandbox.url
    accounts = []
    for k in range(1, SELLERS + 1):
        c = agency_credentials(k)
        accounts.append(
            add_account(
                db,
                vault,
                f"Client {k:02d}",
                "NA",
                c["client_id"],
                c["client_secret"],
                c["refresh_token"],
                backend="sandbox",
                sandbox_url=url,
            )
        )
    revoked = add_account(
        db,
        vault,
        "Churned client",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        AUTHORIZATIONS["revoked"]["refresh_token"],
        backend="sandbox",
        sandbox_url=url,
    )
    queue = make_queue(path)
    assert queue.rate == 5.0 < SANDBOX_RATE
    jobs = {queue.enqueue_sync(aid, days=2): aid for aid in [*accounts[:10], revoked, *accounts[10:]]}
    consumer = queue.consumer(workers=6)
    consumer.start()
    try:
        results = {jobs[jid]: queue.results[jid].get(blocking=True, timeout=600) for jid in jobs}
    finally:
        consumer.stop(graceful=True)
    assert results[revoked]["status"] == "reconnect_needed"
    assert {results[a]["status"] for a in accounts} == {"ok"}, [results[a] for a in accounts]
    # every seller's own profile, and nobody else's, landed in the store
    owners = dict(db.conn.execute("SELECT profile_id, account_id FROM profiles").fetchall())
    assert len(owners) == SELLERS and set(owners.values()) == set(accounts)
    rows = dict(db.conn.execute("SELECT profile_id, COUNT(*) FROM campaign_day GROUP BY profile_id").fetchall())
    assert set(rows) == set(owners) and min(rows.values()) > 0
    state = requests.get(f"{url}/_sandbox/state", timeout=10).json()
    assert state["rate_limit"] == SANDBOX_RATE and state["sellers"] == 2 + SELLERS
    assert state["throttled"] == {"rate_limit": 0, "fault": 0}  # no 429 caused by our own burst
    assert {r["status"] for r in records.job_runs(db, limit=100)} == {"ok", "reconnect_needed"}


def test_the_sandbox_rate_limit_does_bite_an_unpaced_burst(agency_sandbox):
    """The guard above can fail: a burst beyond the documented rate is refused and counted."""
    state = agency_sandbox.state
    before = state.throttled["rate_limit"]
    refused = [state.over_rate("burst-test-profile") for _ in range(int(3 * SANDBOX_RATE))]
    assert refused[: int(2 * SANDBOX_RATE)] == [False] * int(2 * SANDBOX_RATE)  # the burst allowance
    assert any(refused) and state.throttled["rate_limit"] > before
