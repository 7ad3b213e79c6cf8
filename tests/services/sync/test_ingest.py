"""Streaming ingest: a report is staged in bounded chunks and swapped in with its task, repeated keys are summed
(or the report refused), a report failing half-way leaves the stored window as it was."""

from __future__ import annotations

import gzip
import io
import json
import logging
import tracemalloc
from datetime import date

import pytest

from services.amazon.documents import iter_json_rows
from services.errors import AmazonUnavailable
from services.store import open_db, write
from services.sync.ingest import RepeatedKeys, ReportWriter

PID = "111"
PROFILE = {"profile_id": PID, "currency_code": "USD"}


def _task(grain: str, key: str = "t1") -> dict:
    return {"task_key": key, "report_type": grain, "start": "2025-01-01", "end": "2025-01-03"}


def _db(tmp_path, grain="search_term_day", key="t1"):
    path = tmp_path / "s.db"
    db = open_db(path)
    with write(db):
        db.conn.execute(
            "INSERT INTO sync_tasks (run_id, task_key, profile_id, report_type, start, end, status, attempts) "
            "VALUES ('r', ?, ?, ?, '2025-01-01', '2025-01-03', 'pending', 0)",
            [key, PID, grain],
        )
    return path, db


def _term(date, term, clicks, cost, kw=7):
    return {"date": date, "searchTerm": term, "keywordId": kw, "clicks": clicks, "cost": cost, "impressions": 10}


def test_chunks_stage_then_swap_in_with_the_task(tmp_path):
    path, db = _db(tmp_path)
    with write(db):  # a stale row of the window, and one outside it
        for d in ("2025-01-02", "2025-01-09"):
            db.conn.execute(
                "INSERT INTO search_term_day (profile_id, date, keyword_id, search_term, clicks, cost) "
                "VALUES (?, ?, '7', 'old', 1, 1.0)",
                [PID, d],
            )
    rows = [_term(f"2025-01-0{1 + i % 3}", f"t{i}", 1, 0.5) for i in range(10)]
    writer = ReportWriter(path, chunk_rows=3)
    result = writer.write_report(_task("search_term_day"), PROFILE, "rep-1", "r", iter(rows))
    writer.close()
    assert (result.rows, result.received, result.repeated) == (10, 10, 0)
    got = db.conn.execute("SELECT date, search_term FROM search_term_day ORDER BY date, search_term").fetchall()
    assert ("2025-01-02", "old") not in got and ("2025-01-09", "old") in got and len(got) == 11
    task = db.conn.execute("SELECT status, rows, report_id FROM sync_tasks").fetchone()
    assert task == ("done", 10, "rep-1")


def test_repeated_keys_are_summed_and_logged_never_overwritten(tmp_path, caplog):
    path, db = _db(tmp_path)
    rows = [
        _term("2025-01-01", "shoe", 2, 1.1),
        _term("2025-01-01", "boot", 1, 0.4),
        _term("2025-01-01", "shoe", 3, 2.2),
    ]
    caplog.set_level(logging.WARNING)
    result = ReportWriter(path, chunk_rows=2).write_report(_task("search_term_day"), PROFILE, "rep", "r", iter(rows))
    assert (result.rows, result.repeated) == (2, 1)
    got = db.conn.execute("SELECT clicks, cost, impressions FROM search_term_day WHERE search_term = 'shoe'").fetchone()
    assert got == (5, 3.3, 20)  # summed across two chunks, money rounded to the cent
    assert "repeated 1 natural keys" in caplog.text


def test_a_report_of_one_chunk_is_written_straight_in_and_its_repeats_still_summed(tmp_path, caplog):
    """A report that fits in its first chunk skips the staging table when its keys are distinct, and still sums a
    repeated key (through the staging upsert) when they are not."""
    path, db = _db(tmp_path)
    with write(db):  # a stale row of the window
        db.conn.execute(
            "INSERT INTO search_term_day (profile_id, date, keyword_id, search_term, clicks, cost) "
            "VALUES (?, '2025-01-02', '7', 'old', 1, 1.0)",
            [PID],
        )
    writer = ReportWriter(path)  # 60k rows a chunk: both reports below are one chunk
    rows = [_term("2025-01-01", "shoe", 2, 1.1), _term("2025-01-02", "boot", 1, 0.4)]
    assert writer.write_report(_task("search_term_day"), PROFILE, "rep-1", "r", iter(rows)).rows == 2
    (conn,) = [w.conn for w in writer._all]  # the writer's connection: staging tables are TEMP, its own
    staged = conn.execute("SELECT COUNT(*) FROM sqlite_temp_master WHERE name LIKE 'stage_%'").fetchone()[0]
    got = db.conn.execute("SELECT search_term, clicks FROM search_term_day ORDER BY search_term").fetchall()
    assert got == [("boot", 1), ("shoe", 2)] and staged == 0
    assert db.conn.execute("SELECT status, rows FROM sync_tasks").fetchone() == ("done", 2)
    caplog.set_level(logging.WARNING)
    rows.append(_term("2025-01-01", "shoe", 3, 2.2))
    result = writer.write_report(_task("search_term_day"), PROFILE, "rep-2", "r", iter(rows))
    writer.close()
    assert (result.rows, result.received, result.repeated) == (2, 3, 1)
    got = db.conn.execute("SELECT search_term, clicks, cost FROM search_term_day ORDER BY search_term").fetchall()
    assert got == [("boot", 1, 0.4), ("shoe", 5, 3.3)]
    assert "repeated 1 natural keys" in caplog.text


def test_a_repeated_key_with_a_share_refuses_the_report(tmp_path, caplog):
    path, db = _db(tmp_path, "campaign_day")
    with write(db):
        db.conn.execute(
            "INSERT INTO campaign_day (profile_id, date, campaign_id, clicks, cost) VALUES (?, '2025-01-01', '5', 9, 9)",
            [PID],
        )
    row = {"date": "2025-01-01", "campaignId": 5, "clicks": 1, "cost": 1.0, "topOfSearchImpressionShare": 40.0}
    with pytest.raises(RepeatedKeys) as info:
        ReportWriter(path).write_report(_task("campaign_day"), PROFILE, "rep", "r", iter([row, dict(row)]))
    assert "cannot be added up" in str(info.value)
    assert db.conn.execute("SELECT clicks FROM campaign_day").fetchall() == [(9,)]  # old window kept
    assert db.conn.execute("SELECT status FROM sync_tasks").fetchone()[0] == "pending"


def test_a_report_cut_off_half_way_leaves_the_window_as_it_was(tmp_path):
    path, db = _db(tmp_path)
    with write(db):
        db.conn.execute(
            "INSERT INTO search_term_day (profile_id, date, keyword_id, search_term, clicks, cost) "
            "VALUES (?, '2025-01-02', '7', 'old', 1, 1.0)",
            [PID],
        )

    def cut_off():
        for i in range(7):
            yield _term("2025-01-01", f"t{i}", 1, 0.1)
        raise AmazonUnavailable("The report Amazon delivered could not be read. Try again later.")

    writer = ReportWriter(path, chunk_rows=2)
    with pytest.raises(AmazonUnavailable):
        writer.write_report(_task("search_term_day"), PROFILE, "rep", "r", cut_off())
    assert db.conn.execute("SELECT search_term FROM search_term_day").fetchall() == [("old",)]
    assert db.conn.execute("SELECT status FROM sync_tasks").fetchone()[0] == "pending"
    # the same worker connection then writes the retried report cleanly (its staging table was emptied)
    rows = [_term("2025-01-01", "new", 1, 0.1)]
    assert writer.write_report(_task("search_term_day"), PROFILE, "rep2", "r", iter(rows)).rows == 1
    assert db.conn.execute("SELECT search_term FROM search_term_day").fetchall() == [("new",)]


def _blocks(data: bytes, size: int = 7919):
    return (data[i : i + size] for i in range(0, len(data), size))


def test_stream_parser_reads_gzip_members_bom_and_plain_json():
    rows = [{"a": 1, "cost": 0.5}, {"a": 2, "cost": 1.25}]
    body = json.dumps(rows).encode()
    two_members = gzip.compress(body[:10]) + gzip.compress(body[10:])
    assert list(iter_json_rows(_blocks(two_members, 5))) == rows
    assert list(iter_json_rows(_blocks(b"\xef\xbb\xbf" + body, 3))) == rows
    got = list(iter_json_rows(_blocks(gzip.compress(body))))
    assert got == rows and type(got[0]["cost"]) is float and type(got[0]["a"]) is int


@pytest.mark.parametrize(
    "body",
    # mtime=0: the same bytes in every process, so parallel test workers collect the same test ids
    [
        gzip.compress(b'[{"a": 1}, {"a": 2', mtime=0)[:-8],
        gzip.compress(b'{"rows": []}', mtime=0),
        b"[1, 2]",
        gzip.compress(b"", mtime=0),
    ],
    ids=["cut-off", "an-object", "not-rows", "empty"],
)
def test_stream_parser_refuses_what_is_not_a_list_of_rows(body):
    with pytest.raises(AmazonUnavailable):
        list(iter_json_rows(_blocks(body)))


def test_a_big_report_is_never_whole_in_memory():
    """60 MB of JSON (200k rows) pass through the parser with a peak of a few MB of Python allocations."""
    row = {"date": "2025-01-01", "campaignName": "x" * 180, "clicks": 3, "cost": 1.5, "sales7d": 12.25}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=1) as gz:
        gz.write(b"[")
        for i in range(200_000):
            gz.write((b"," if i else b"") + json.dumps(dict(row, campaignId=i)).encode())
        gz.write(b"]")
    compressed = buf.getvalue()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        n = sum(1 for _ in iter_json_rows(_blocks(compressed, 1 << 16)))
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert n == 200_000
    assert peak < 8 * 1024 * 1024, peak


def test_a_search_term_report_forgets_the_sums_of_the_days_it_rewrites(tmp_path):
    """The sync's span sums (`search_term_span`) stay only while they equal the days: a report over any of their
    days drops them in its own transaction (the page then sums the days), and a rebuild brings them back."""
    from services.analytics import search_terms as terms
    from services.analytics.tables import Query
    from services.sync.summaries import rebuild_term_spans

    path, db = _db(tmp_path)
    with write(db):
        db.conn.execute("INSERT INTO campaign_day (profile_id, date, campaign_id) VALUES (?, '2025-01-03', 'c')", [PID])
        db.conn.execute(
            "INSERT INTO search_term_day (profile_id, date, keyword_id, search_term, clicks, cost, purchases_7d) "
            "VALUES (?, '2025-01-02', '7', 'old', 4, 2.5, 1)",
            [PID],
        )
    assert rebuild_term_spans(db, PID, ("Last 7 days", "Month to date")) == {
        "2024-12-28..2025-01-03": 1,
        "2025-01-01..2025-01-03": 1,
        "2024-11-05..2024-12-31": 0,  # the optimizer's window: 60 days back, the 3 settling days left out
    }
    last7 = Query(PID, date(2024, 12, 28), date(2025, 1, 3))
    assert terms.has_span(db, last7)
    assert terms.all_terms(db, last7, terms.TermFilter())[["search_term", "clicks", "orders"]].values.tolist() == [
        ["old", 4, 1]
    ]
    writer = ReportWriter(path)
    writer.write_report(_task("search_term_day"), PROFILE, "rep-1", "r", iter([_term("2025-01-02", "new", 3, 1.0)]))
    writer.close()
    assert not terms.has_span(db, last7)
    # only the span whose days the report did not touch stays current (the rules' window ends before them)
    assert db.conn.execute("SELECT start, end FROM search_term_spans").fetchall() == [("2024-11-05", "2024-12-31")]
    assert terms.all_terms(db, last7, terms.TermFilter())["search_term"].tolist() == ["new"]  # summed from the days
    rebuild_term_spans(db, PID, ("Last 7 days",))
    assert terms.has_span(db, last7)
    assert terms.all_terms(db, last7, terms.TermFilter())["search_term"].tolist() == ["new"]
    # spans of dates the sidebar no longer offers are dropped with their rows
    assert db.conn.execute("SELECT DISTINCT start FROM search_term_span").fetchall() == [("2024-12-28",)]
