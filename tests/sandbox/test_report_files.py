"""Report documents are generated in chunks to a file outside the global lock, by several workers, smallest first."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
import time

import requests

from sandbox import reports_api

RPT = "application/vnd.createasyncreportrequest.v3+json"


def report_body(today: dt.date, **cfg) -> dict:
    configuration = {"adProduct": "SPONSORED_PRODUCTS", "reportTypeId": "spCampaigns", "groupBy": ["campaign"]}
    configuration |= {"columns": ["date", "campaignId", "clicks", "cost"], "timeUnit": "DAILY", "format": "GZIP_JSON"}
    configuration.update(cfg)
    start, end = today - dt.timedelta(days=9), today - dt.timedelta(days=1)
    return {"name": "t", "startDate": str(start), "endDate": str(end), "configuration": configuration}


def wait(ads, rid, pid, timeout: float) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        j = ads.get(f"/reporting/reports/{rid}", profile_id=pid).json()
        if j["status"] in ("COMPLETED", "FAILED"):
            return j
        time.sleep(0.05)
    raise AssertionError(f"report stuck in {j['status']}")


def test_chunked_document_equals_the_rows_of_one_piece(own, own_ads, monkeypatch):
    monkeypatch.setattr(reports_api, "CHUNK_DAYS", 2)
    monkeypatch.setattr(reports_api, "CHUNK_ROWS", 300)
    pid = own_ads.profile_id()
    cols = ["date", "searchTerm", "keywordId", "impressions", "clicks", "cost", "sales7d"]
    body = report_body(own.world.today, reportTypeId="spSearchTerm", groupBy=["searchTerm"], columns=cols)
    rid = own_ads.post("/reporting/reports", body, profile_id=pid, **{"Content-Type": RPT}).json()["reportId"]
    j = wait(own_ads, rid, pid, timeout=30)
    assert j["status"] == "COMPLETED"
    raw = requests.get(j["url"], timeout=30).content
    assert j["fileSize"] == len(raw)
    start, end = dt.date.fromisoformat(body["startDate"]), dt.date.fromisoformat(body["endDate"])
    rows = own.world.report_rows(pid, "spSearchTerm", ["searchTerm"], "DAILY", start, end, cols)
    assert len(rows) > 600  # several chunks of rows and of days
    assert gzip.decompress(raw) == json.dumps(rows, separators=(",", ":")).encode()


def test_a_day_with_many_rows_is_read_alone_and_the_document_is_unchanged(own, own_ads, monkeypatch):
    """Reports with many rows a day (the large world's targeting report) are read a day at a time, so a worker
    never holds ten days of rows; the document is still byte for byte the one of all rows at once."""
    pid = own_ads.profile_id()
    cols = ["date", "keywordId", "impressions", "clicks", "cost", "sales7d"]
    body = report_body(own.world.today, reportTypeId="spTargeting", groupBy=["targeting"], columns=cols)
    start, end = dt.date.fromisoformat(body["startDate"]), dt.date.fromisoformat(body["endDate"])
    rec = {"profile_id": str(pid), "startDate": start, "endDate": end, "config": body["configuration"]}
    per_day = reports_api._estimated_rows(own.state, rec) // ((end - start).days + 1)
    assert reports_api._chunk_days(own.state, rec) == reports_api.CHUNK_DAYS  # the demo world's days are small
    monkeypatch.setattr(reports_api, "CHUNK_FRAME_ROWS", per_day * 3 - 1)
    assert reports_api._chunk_days(own.state, rec) == 2
    monkeypatch.setattr(reports_api, "CHUNK_FRAME_ROWS", per_day // 2)
    assert reports_api._chunk_days(own.state, rec) == 1
    seen = []
    real = reports_api._frames

    def counted(state, r):
        for frame in real(state, r):
            seen.append(len(frame))
            yield frame

    monkeypatch.setattr(reports_api, "_frames", counted)
    rid = own_ads.post("/reporting/reports", body, profile_id=pid, **{"Content-Type": RPT}).json()["reportId"]
    j = wait(own_ads, rid, pid, timeout=30)
    assert j["status"] == "COMPLETED"
    assert len(seen) == (end - start).days + 1  # one frame a day
    rows = own.world.report_rows(pid, "spTargeting", ["targeting"], "DAILY", start, end, cols)
    assert (
        gzip.decompress(requests.get(j["url"], timeout=30).content) == json.dumps(rows, separators=(",", ":")).encode()
    )


def test_polls_are_answered_while_a_report_is_generated(own, own_ads, monkeypatch):
    """Generation holds the world's lock only to read a few days at a time: a poll waits at most one such read."""
    started, release = threading.Event(), threading.Event()
    real = reports_api._frames

    def slow_frames(state, r):
        for frame in real(state, r):
            started.set()
            release.wait(10)  # serialising a huge chunk, outside the lock
            yield frame

    monkeypatch.setattr(reports_api, "_frames", slow_frames)
    pid = own_ads.profile_id()
    body = report_body(own.world.today)
    rid = own_ads.post("/reporting/reports", body, profile_id=pid, **{"Content-Type": RPT}).json()["reportId"]
    try:
        assert started.wait(10)
        t0 = time.monotonic()
        assert own_ads.get(f"/reporting/reports/{rid}", profile_id=pid).json()["status"] in ("PENDING", "PROCESSING")
        assert own_ads.get("/v2/profiles").status_code == 200
        assert time.monotonic() - t0 < 2
    finally:
        release.set()
    assert wait(own_ads, rid, pid, timeout=30)["status"] == "COMPLETED"
