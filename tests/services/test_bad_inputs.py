"""A table of bad inputs: each is met by a clear sentence, no crash, and no data lost."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet

from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT, SECOND_CLIENT
from services import accounts, analytics, connect
from services.analytics.export import to_safe_csv
from services.analytics.periods import resolve_range
from services.errors import DashboardError
from services.secrets.vault import Vault
from services.store import open_db

CID, SECRET = DEMO_CLIENT["client_id"], DEMO_CLIENT["client_secret"]
DEMO_RT, SECOND_RT = AUTHORIZATIONS["demo"]["refresh_token"], AUTHORIZATIONS["second"]["refresh_token"]


@pytest.fixture(scope="module")
def agency(sandbox, tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "bad.db"
    db, vault = open_db(path), Vault(secret_keys=Fernet.generate_key().decode())
    aid, _ = connect.connect_and_list(db, vault, "Second", "NA", CID, SECRET, SECOND_RT, sandbox_url=sandbox.url)
    assert connect.run_sync(path, vault, aid, None, days=7).status == "ok"
    return path, db, vault, aid, sandbox


def snapshot(db):
    return {t: db[t].count for t in ("accounts", "profiles", "campaign_day", "search_term_day", "sync_runs")}


def paste(name="Acme", region="NA", client_id=CID, secret=SECRET, token=DEMO_RT):
    return lambda db, vault, aid, sb, path: connect.connect_and_list(
        db, vault, name, region, client_id, secret, token, sandbox_url=sb.url
    )


# (case, action, expected words in the sentence)
CASES = [
    ("malformed token", paste(token="hello"), "should start with Atzr|"),
    ("token cut off when copied", paste(token="Atzr|IwEBI"), "cut off"),
    ("token truncated but long", paste(token=DEMO_RT[:60]), "does not accept this refresh token"),
    ("access token pasted", paste(token="Atza|IwEBI" + "x" * 300), "access token"),
    ("token with a line break", paste(token=DEMO_RT[:40] + "\n" + DEMO_RT[40:]), "no spaces"),
    ("non-ASCII token", paste(token="Atzr|IwEBIéüß漢字" + "x" * 30), "should start with Atzr|"),
    ("wrong client secret", paste(secret=SECOND_CLIENT["client_secret"]), "client ID or client secret"),
    (
        "token of another app",
        paste(client_id=SECOND_CLIENT["client_id"], secret=SECOND_CLIENT["client_secret"]),
        "issued to another app",
    ),
    ("malformed client id", paste(client_id="amzn1.application-oa2-client.XYZ"), "client ID should look like"),
    ("non-ASCII client secret", paste(secret="amzn1.oa2-cs.v1.ünïcødé"), "client secret is empty or malformed"),
    ("empty name", paste(name="   "), "Give the account a name"),
    ("control characters in name", paste(name="\x00\x1b[31m"), "Give the account a name"),
    ("unknown region", paste(region="MARS"), "Pick the region"),
    (
        "profile id of another account",
        lambda db, vault, aid, sb, path: connect.run_sync(path, vault, aid, ["1234567890123456"], days=3),
        "does not belong to this account",
    ),
    (
        "huge sync range",
        lambda db, vault, aid, sb, path: connect.run_sync(path, vault, aid, None, days=100_000),
        "Amazon keeps 95 days",
    ),
    (
        "negative sync range",
        lambda db, vault, aid, sb, path: connect.run_sync(path, vault, aid, None, days=-5),
        "Amazon keeps 95 days",
    ),
    (
        "consent without a secret",
        lambda db, vault, aid, sb, path: connect.start_consent(db, vault, "X", "NA", CID, ""),
        "client secret is empty or malformed",
    ),
]


@pytest.mark.parametrize("case, action, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_sentence_and_loses_nothing(agency, monkeypatch, case, action, words):
    path, db, vault, aid, sb = agency
    monkeypatch.delenv("LWA_CLIENT_SECRET", raising=False)
    before = snapshot(db)
    with pytest.raises(DashboardError) as info:
        action(db, vault, aid, sb, path)
    message = str(info.value)
    assert words in message, message
    assert "Traceback" not in message and "Atzr|I" not in message and len(message) < 300
    assert snapshot(db) == before
    assert accounts.get_account(db, aid)["status"] == "ok"


def test_token_of_another_region_connects_and_says_where(agency):
    path, db, vault, aid, sb = agency
    before = snapshot(db)
    other, sentence = connect.connect_and_list(db, vault, "Demo in EU?", "EU", CID, SECRET, DEMO_RT, sandbox_url=sb.url)
    assert sentence.startswith("Connected")  # the demo seller has EU profiles too (UK, DE)
    connect.remove_account(db, other)
    other, sentence = connect.connect_and_list(db, vault, "Demo in FE?", "FE", CID, SECRET, DEMO_RT, sandbox_url=sb.url)
    assert "not FE" in sentence
    connect.remove_account(db, other)
    assert snapshot(db) == before


def test_same_seller_under_another_name_is_refused_and_loses_nothing(agency):
    path, db, vault, aid, sb = agency
    before = snapshot(db)
    with pytest.raises(DashboardError, match="already connected as “Second”"):
        connect.connect_and_list(db, vault, "Second again", "NA", CID, SECRET, SECOND_RT, sandbox_url=sb.url)
    assert snapshot(db) == before and accounts.find_account(db, "Second again") is None


def test_non_ascii_account_name_is_kept(agency):
    path, db, vault, aid, sb = agency
    other, _ = connect.connect_and_list(
        db, vault, "Ünïcødé 店舗 🚀  shop", "NA", CID, SECRET, DEMO_RT, sandbox_url=sb.url
    )
    assert accounts.get_account(db, other)["name"] == "Ünïcødé 店舗 🚀 shop"
    connect.remove_account(db, other)


HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "<script>alert(1)</script>",
    "'; DROP TABLE accounts; --",
    "\u202egnp.exe",
    "Привет 店舗 🚀",
    "tab\tand\rcr",
    "nul\x00byte",
]


def test_hostile_campaign_names_and_search_terms(agency, tmp_path):
    path, db, vault, aid, sb = agency
    copy = tmp_path / "hostile.db"
    db.conn.execute(f"VACUUM INTO '{copy}'")
    h = open_db(copy)
    pid, day = h.conn.execute("SELECT profile_id, MAX(date) FROM campaign_day").fetchone()
    for i, text in enumerate(HOSTILE):
        h.conn.execute(
            "INSERT INTO campaign_day (profile_id, date, campaign_id, campaign_name, impressions, clicks, cost) "
            "VALUES (?, ?, ?, ?, 10, 1, 1.5)",
            [pid, day, f"hostile{i}", text],
        )
        h.conn.execute(
            "INSERT INTO search_term_day (profile_id, date, keyword_id, search_term, campaign_id, campaign_name, "
            "impressions, clicks, cost) VALUES (?, ?, 'k', ?, ?, ?, 10, 1, 1.5)",
            [pid, day, text, f"hostile{i}", text],
        )
    q = analytics.Query(pid, date.fromisoformat(day), date.fromisoformat(day))
    for frame in (analytics.campaigns_table(h, q), analytics.search_terms_table(h, q)):
        csv = to_safe_csv(frame).decode("utf-8-sig")
        for bad in ("\n=HYPERLINK", ",=HYPERLINK", ",+1+2", ",-2+3", ",@SUM"):
            assert bad not in csv
    assert h["accounts"].count == 1  # the SQL-shaped name stayed text


def test_huge_date_range_is_served_not_crashed(agency):
    path, db, vault, aid, sb = agency
    pid = db.conn.execute("SELECT profile_id FROM profiles WHERE account_id = ?", [aid]).fetchone()[0]
    period = resolve_range("Custom", date(2026, 1, 1), (date(1900, 1, 1), date(2100, 12, 31)))
    frame = analytics.campaigns_table(db, analytics.Query(pid, period.start, period.end))
    assert len(frame) > 0
    with pytest.raises(ValueError, match="start date must be on or before"):
        resolve_range("Custom", date(2026, 1, 1), (date(2026, 2, 1), date(2026, 1, 1)))
