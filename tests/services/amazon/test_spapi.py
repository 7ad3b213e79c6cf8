import gzip
import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fakes import (
    ACCESS_TOKEN,
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakeAmazon,
    NoSleep,
    Reply,
    gz,
    session_for,
    token_reply,
)

from services.amazon.http import RetryPolicy
from services.amazon.lwa import LwaClient, TokenSource
from services.amazon.spapi import MissingSalesRole, SpApiReports, iso_utc
from services.errors import AmazonRequestError, ReportFailed, ReportTimedOut

R = "/na/reports/2021-06-30"
US = "ATVPDKIKX0DER"


def client(fake):
    session = session_for(fake)
    if not fake.routes.get(("POST", "/auth/o2/token")):
        fake.on("POST", "/auth/o2/token", token_reply())
    lwa = LwaClient(f"{BASE}/auth/o2/token", CLIENT_ID, CLIENT_SECRET, session=session, sleep=NoSleep())
    return SpApiReports(
        f"{BASE}/na",
        TokenSource(lwa, REFRESH_TOKEN),
        session=session,
        policy=RetryPolicy(max_attempts=3),
        sleep=NoSleep(),
    )


def status(s, doc=None):
    return Reply(
        200,
        {
            "reportId": "42",
            "reportType": "GET_COUPON_PERFORMANCE_REPORT",
            "processingStatus": s,
            "createdTime": "2025-01-01T00:00:00Z",
            **({"reportDocumentId": doc} if doc else {}),
        },
    )


def document(doc_id, path, gzip=True):
    body = {"reportDocumentId": doc_id, "url": f"{BASE}{path}?X-Amz-Signature=sig"}
    if gzip:
        body["compressionAlgorithm"] = "GZIP"
    return Reply(200, body)


COUPONS = {
    "reportSpecification": {"reportType": "GET_COUPON_PERFORMANCE_REPORT"},
    "coupons": [{"couponId": "c1", "name": "Crème brûlée 10 % – Größe", "clips": 5, "redemptions": 2}],
}


def test_iso_utc():
    assert iso_utc(datetime(2025, 1, 1)) == "2025-01-01T00:00:00Z"
    assert iso_utc(datetime(2025, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))) == "2025-01-01T00:00:00Z"


def test_coupon_report_full_flow_headers_options_and_utf8():
    fake = FakeAmazon().on("POST", f"{R}/reports", Reply(202, {"reportId": "42"}))
    fake.on("GET", f"{R}/reports/42", status("IN_QUEUE"), status("IN_PROGRESS"), status("DONE", "doc-1"))
    fake.on("GET", f"{R}/documents/doc-1", document("doc-1", "/s3/doc-1"))
    # served with a misleading charset: decoding must still be UTF-8
    raw = gzip.compress(json.dumps(COUPONS, ensure_ascii=False).encode("utf-8"))
    fake.on("GET", "/s3/doc-1", Reply(200, raw=raw, headers={"Content-Type": "text/plain; charset=ISO-8859-1"}))
    c = client(fake)
    coupons = c.coupon_report(US, datetime(2025, 1, 1), datetime(2025, 3, 31, tzinfo=UTC))
    assert coupons == COUPONS["coupons"]
    assert coupons[0]["name"] == "Crème brûlée 10 % – Größe"
    create = fake.calls_to("POST", f"{R}/reports")[0]
    assert create.json() == {
        "reportType": "GET_COUPON_PERFORMANCE_REPORT",
        "marketplaceIds": [US],
        "reportOptions": {"couponStartDateFrom": "2025-01-01T00:00:00Z", "couponStartDateTo": "2025-03-31T00:00:00Z"},
    }
    assert create.headers["x-amz-access-token"] == ACCESS_TOKEN
    assert create.headers["content-type"] == "application/json" and create.headers["user-agent"]
    assert "Authorization" not in create.headers
    download = fake.calls_to("GET", "/s3/doc-1")[0]
    assert "x-amz-access-token" not in download.headers


def test_promotion_report_options():
    fake = FakeAmazon().on("POST", f"{R}/reports", Reply(202, {"reportId": "42"}))
    fake.on("GET", f"{R}/reports/42", status("DONE", "doc-2"))
    fake.on("GET", f"{R}/documents/doc-2", document("doc-2", "/s3/doc-2", gzip=False))
    fake.on("GET", "/s3/doc-2", Reply(200, {"promotions": [{"promotionId": "p1"}]}))
    assert client(fake).promotion_report(US, datetime(2025, 1, 1), datetime(2025, 2, 1)) == [{"promotionId": "p1"}]
    opts = fake.calls_to("POST", f"{R}/reports")[0].json()["reportOptions"]
    assert opts == {"promotionStartDateFrom": "2025-01-01T00:00:00Z", "promotionStartDateTo": "2025-02-01T00:00:00Z"}


def test_report_options_are_strings():
    fake = FakeAmazon().on("POST", f"{R}/reports", Reply(202, {"reportId": "42"}))
    client(fake).create_report("X", [US], {"a ": 1})
    assert fake.calls_to("POST", f"{R}/reports")[0].json()["reportOptions"] == {"a": "1"}


def test_fatal_reads_error_document(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeAmazon().on("GET", f"{R}/reports/42", status("IN_PROGRESS"), status("FATAL", "err-doc"))
    fake.on("GET", f"{R}/documents/err-doc", document("err-doc", "/s3/err-doc"))
    fake.on(
        "GET",
        "/s3/err-doc",
        Reply(
            200,
            raw=gz({"errorDetails": "Please provide report options promotionStartDateFrom and promotionStartDateTo"}),
        ),
    )
    with pytest.raises(ReportFailed) as info:
        client(fake).wait_report("42", poll=30, sleep=NoSleep())
    assert "promotionStartDateFrom" in str(info.value)
    assert ACCESS_TOKEN not in caplog.text and "X-Amz-Signature" not in caplog.text


def test_fatal_without_document_and_cancelled():
    fake = FakeAmazon().on("GET", f"{R}/reports/42", status("FATAL"))
    with pytest.raises(ReportFailed):
        client(fake).wait_report("42", sleep=NoSleep())
    fake = FakeAmazon().on("GET", f"{R}/reports/42", status("CANCELLED"))
    with pytest.raises(ReportFailed) as info:
        client(fake).wait_report("42", sleep=NoSleep())
    assert "cancelled" in str(info.value).lower()


def test_expired_document_url_fetches_new_document():
    fake = FakeAmazon().on("GET", f"{R}/reports/42", status("DONE", "doc-1"))
    fake.on("GET", f"{R}/documents/doc-1", document("doc-1", "/s3/old"), document("doc-1", "/s3/new"))
    fake.on("GET", "/s3/old", Reply(403, raw=b"<Error>Request has expired</Error>"))
    fake.on("GET", "/s3/new", Reply(200, raw=gz(COUPONS)))
    assert client(fake).wait_report("42", sleep=NoSleep()) == COUPONS
    assert len(fake.calls_to("GET", f"{R}/documents/doc-1")) == 2


def test_403_refreshes_once_then_clear_error(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeAmazon().on("POST", "/auth/o2/token", token_reply("Atza|old"), token_reply("Atza|new"))
    fake.on(
        "POST",
        f"{R}/reports",
        Reply(
            403,
            {
                "errors": [
                    {
                        "code": "Unauthorized",
                        "message": "Access to requested resource is denied.",
                        "details": "The access token you provided is revoked, malformed or invalid. Atza|new",
                    }
                ]
            },
        ),
    )
    with pytest.raises(AmazonRequestError) as info:
        client(fake).create_report("GET_COUPON_PERFORMANCE_REPORT", [US], {})
    calls = fake.calls_to("POST", f"{R}/reports")
    assert [c.headers["x-amz-access-token"] for c in calls] == ["Atza|old", "Atza|new"]
    assert info.value.status == 403 and "Access to requested resource is denied" in str(info.value)
    for text in (str(info.value), repr(info.value), caplog.text):
        assert "Atza|" not in text and REFRESH_TOKEN not in text


@pytest.mark.parametrize(
    ("details", "missing_role"),
    [("", True), ("The access token you provided has expired.", False)],
)
def test_sales_403_is_a_missing_role_only_when_amazon_does_not_blame_the_token(details, missing_role):
    """A token that expires again right after its refresh (a 2 s lifetime in the fault test, on a busy CI machine)
    once made the sync stop asking for a profile's sales for the rest of the run: days went missing silently."""
    error = {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": details}
    fake = FakeAmazon().on("POST", f"{R}/reports", Reply(403, {"errors": [error]}))
    with pytest.raises(AmazonRequestError) as info:
        client(fake).sales_traffic_report(US, datetime(2026, 11, 1).date(), datetime(2026, 11, 1).date())
    assert isinstance(info.value, MissingSalesRole) is missing_role
    assert info.value.status == 403 and len(fake.calls_to("POST", f"{R}/reports")) == 2


def test_400_surfaces_amazon_message():
    fake = FakeAmazon().on(
        "POST",
        f"{R}/reports",
        Reply(
            400,
            {"errors": [{"code": "InvalidInput", "message": "Invalid input", "details": "marketplaceIds is required"}]},
        ),
    )
    with pytest.raises(AmazonRequestError) as info:
        client(fake).create_report("X", [], {})
    assert info.value.code == "InvalidInput" and "marketplaceIds is required" in str(info.value)


def test_wait_timeout():
    fake = FakeAmazon().on("GET", f"{R}/reports/42", status("IN_QUEUE"))
    with pytest.raises(ReportTimedOut):
        client(fake).wait_report("42", poll=30, timeout=120, sleep=NoSleep())


# -- integration: the sandbox over real HTTP ----------------------------------------------------
import time as _time  # noqa: E402

import requests  # noqa: E402
from fakes import clear_faults, sandbox_clients, set_faults  # noqa: E402

from services.amazon.regions import marketplace_id_for_country  # noqa: E402
from services.errors import DownloadExpired  # noqa: E402


def _window(url):
    today = datetime.fromisoformat(requests.get(f"{url}/_sandbox/state", timeout=5).json()["today"])
    return today - timedelta(days=700), today + timedelta(days=30)


@pytest.mark.parametrize("region,country", [("NA", "US"), ("EU", "UK"), ("EU", "DE")])
def test_sandbox_coupon_and_deal_reports(sandbox, region, country):
    _, sp, _ = sandbox_clients(sandbox.url, region)
    start, end = _window(sandbox.url)
    market = marketplace_id_for_country(country)
    coupons = sp.coupon_report(market, start, end, poll=0.05)
    deals = sp.promotion_report(market, start, end, poll=0.05)
    assert isinstance(coupons, list) and isinstance(deals, list)
    for c in coupons:
        assert {"couponId", "clips", "redemptions", "startDateTime"} <= set(c)
        assert c["marketplaceId"] == market
    for d in deals:
        assert {"promotionId", "type", "startDateTime"} <= set(d)
    if country == "US":
        assert coupons or deals


def test_sandbox_fatal_report_surfaces_error_document(fresh_sandbox):
    url = fresh_sandbox.url
    _, sp, _ = sandbox_clients(url, "NA")
    start, end = _window(url)
    set_faults(url, {"fail_next_reports": 1})
    with pytest.raises(ReportFailed) as info:
        sp.coupon_report(marketplace_id_for_country("US"), start, end, poll=0.05)
    assert "error" in str(info.value).lower() or "fail" in str(info.value).lower()
    assert info.value.reason and info.value.reason != "Amazon gave no reason"


def test_sandbox_missing_options_fatal_reason(sandbox):
    _, sp, _ = sandbox_clients(sandbox.url, "NA")
    try:
        rid = sp.create_report("GET_PROMOTION_PERFORMANCE_REPORT", [marketplace_id_for_country("US")], {})
    except AmazonRequestError as exc:  # a 400 at creation is Amazon-like too
        assert exc.status == 400
        return
    with pytest.raises(ReportFailed) as info:
        sp.wait_report(rid, poll=0.05, sleep=_time.sleep)
    assert "promotionStartDateFrom" in str(info.value)


def test_sandbox_expired_document_urls(fresh_sandbox):
    url = fresh_sandbox.url
    _, sp, _ = sandbox_clients(url, "NA")
    start, end = _window(url)
    set_faults(url, {"expire_download_urls": True})
    with pytest.raises(DownloadExpired):
        sp.coupon_report(marketplace_id_for_country("US"), start, end, poll=0.05)
    clear_faults(url)
    assert isinstance(sp.coupon_report(marketplace_id_for_country("US"), start, end, poll=0.05), list)


def test_sandbox_spapi_token_expiry_refreshes_once(fresh_sandbox):
    url = fresh_sandbox.url
    _, sp, tokens = sandbox_clients(url, "NA")
    set_faults(url, {"access_token_ttl": 0.3})
    tokens.get()
    _time.sleep(0.5)
    start, end = _window(url)
    rid = sp.create_report(
        "GET_COUPON_PERFORMANCE_REPORT",
        [marketplace_id_for_country("US")],
        {"couponStartDateFrom": iso_utc(start), "couponStartDateTo": iso_utc(end)},
    )
    assert rid and tokens.refreshes == 2


def test_done_with_only_an_error_document_is_a_failure():
    fake = FakeAmazon().on("GET", f"{R}/reports/42", status("DONE", "doc-1"))
    fake.on("GET", f"{R}/documents/doc-1", document("doc-1", "/s3/doc-1"))
    fake.on("GET", "/s3/doc-1", Reply(200, raw=gz({"errorDetails": "Please provide report options"})))
    with pytest.raises(ReportFailed) as info:
        client(fake).wait_report("42", sleep=NoSleep())
    assert "Please provide report options" in str(info.value)
