import logging

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

from services.amazon.ads import KINDS, AdsClient, MultiStatus
from services.amazon.http import RetryPolicy
from services.amazon.lwa import LwaClient, TokenSource
from services.errors import (
    AmazonRequestError,
    AmazonUnavailable,
    AuthorizationExpired,
    DashboardError,
    DownloadExpired,
    ReportFailed,
    ReportTimedOut,
)

PROFILE = "3201223399117240"
SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, "Atza|", "Atzr|", "X-Amz-Signature=sig")


def client(fake, tokens=None):
    session = session_for(fake)
    if not fake.routes.get(("POST", "/auth/o2/token")):
        fake.on("POST", "/auth/o2/token", token_reply())
    lwa = LwaClient(
        f"{BASE}/auth/o2/token",
        CLIENT_ID,
        CLIENT_SECRET,
        session=session,
        policy=RetryPolicy(max_attempts=2),
        sleep=NoSleep(),
    )
    tokens = tokens or TokenSource(lwa, REFRESH_TOKEN)
    return AdsClient(
        f"{BASE}/na", CLIENT_ID, tokens, session=session, policy=RetryPolicy(max_attempts=3), sleep=NoSleep()
    )


def api_calls(fake):
    return [c for c in fake.calls if c.path != "/auth/o2/token"]


def test_kinds_match_spec():
    assert KINDS["targets"] == (
        "spTargetingClause",
        "targetingClauses",
        "targetId",
        "targetIdFilter",
        "targetingClause",
    )
    assert KINDS["negativeKeywords"][2:4] == ("negativeKeywordId", "negativeKeywordIdFilter")
    assert KINDS["productAds"][2:4] == ("adId", "adIdFilter")


def test_list_profiles_headers_without_scope():
    fake = FakeAmazon().on("GET", "/na/v2/profiles", Reply(200, [{"profileId": 1, "countryCode": "US"}]))
    assert client(fake).list_profiles() == [{"profileId": 1, "countryCode": "US"}]
    call = api_calls(fake)[0]
    assert call.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert call.headers["Amazon-Advertising-API-ClientId"] == CLIENT_ID
    assert "Amazon-Advertising-API-Scope" not in call.headers


@pytest.mark.parametrize("kind", list(KINDS))
def test_list_entities_pages_until_next_token_absent(kind):
    media, env = KINDS[kind][:2]
    fake = FakeAmazon().on(
        "POST",
        f"/na/sp/{kind}/list",
        Reply(200, {env: [{"id": 1}, {"id": 2}], "totalResults": 5, "nextToken": "t1"}),
        Reply(200, {env: [{"id": 3}, {"id": 4}], "totalResults": 5, "nextToken": "t2"}),
        Reply(200, {env: [{"id": 5}], "totalResults": 5}),
    )
    rows = client(fake).list_entities(PROFILE, kind, {"stateFilter": {"include": ["ENABLED"]}}, page_size=2)
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    calls = api_calls(fake)
    assert [c.json().get("nextToken") for c in calls] == [None, "t1", "t2"]
    for c in calls:
        assert c.json()["stateFilter"] == {"include": ["ENABLED"]} and c.json()["maxResults"] == 2
        assert c.headers["Content-Type"] == c.headers["Accept"] == f"application/vnd.{media}.v3+json"
        assert c.headers["Amazon-Advertising-API-Scope"] == PROFILE


def test_list_entities_stops_on_repeated_token():
    fake = FakeAmazon().on("POST", "/na/sp/keywords/list", Reply(200, {"keywords": [], "nextToken": "same"}))
    with pytest.raises(AmazonUnavailable):
        client(fake).list_entities(PROFILE, "keywords")


def _multistatus_handler(env, id_key, repr_key, fail_every=3):
    def handler(call):
        items = call.json()[env]
        success, error = [], []
        for i, item in enumerate(items):
            if item["n"] % fail_every == 0:
                error.append(
                    {
                        "index": i,
                        "errors": [
                            {
                                "errorType": "rangeError",
                                "errorValue": {
                                    "rangeError": {"reason": "TOO_LOW", "message": "Bid is below the minimum"}
                                },
                            }
                        ],
                    }
                )
            else:
                entity = {**item, id_key: f"id{item['n']}"}
                success.append(
                    {
                        "index": i,
                        id_key: f"id{item['n']}",
                        repr_key: entity if call.headers.get("Prefer") == "return=representation" else None,
                    }
                )
        return Reply(207, {env: {"success": success, "error": error}})

    return handler


def test_create_maps_207_across_chunks():
    fake = FakeAmazon().on("POST", "/na/sp/keywords", _multistatus_handler("keywords", "keywordId", "keyword"))
    items = [{"n": n, "keywordText": f"kw {n}"} for n in range(2500)]
    result = client(fake).create(PROFILE, "keywords", items)
    assert isinstance(result, MultiStatus)
    calls = api_calls(fake)
    assert [len(c.json()["keywords"]) for c in calls] == [1000, 1000, 500]
    assert all(c.headers["Prefer"] == "return=representation" for c in calls)
    assert [r.index for r in result.items] == list(range(2500))
    for r in result.items:
        if r.index % 3 == 0:
            assert not r.ok and r.entity_id is None and "Bid is below the minimum" in r.reason
            assert "TOO_LOW" in r.reason and r.errors[0]["errorType"] == "rangeError"
        else:
            assert r.ok and r.entity_id == f"id{r.index}" and r.entity["keywordText"] == f"kw {r.index}"
    assert len(result.failed) == 834 and len(result.succeeded_ids) == 1666
    assert not result.all_ok


def test_update_uses_put_and_missing_index_is_a_failure():
    fake = FakeAmazon().on(
        "PUT",
        "/na/sp/campaigns",
        Reply(207, {"campaigns": {"success": [{"index": 1, "campaignId": "c2"}], "error": []}}),
    )
    result = client(fake).update(PROFILE, "campaigns", [{"campaignId": "c1"}, {"campaignId": "c2"}])
    assert [(r.index, r.ok, r.entity_id) for r in result.items] == [(0, False, None), (1, True, "c2")]
    assert result.items[0].reason
    assert api_calls(fake)[0].headers["Content-Type"] == "application/vnd.spCampaign.v3+json"


@pytest.mark.parametrize("kind", list(KINDS))
def test_archive_uses_delete_filter(kind):
    media, env, id_key, id_filter, _ = KINDS[kind]
    fake = FakeAmazon().on(
        "POST",
        f"/na/sp/{kind}/delete",
        Reply(
            207,
            {
                env: {
                    "success": [{"index": 0, id_key: "11"}],
                    "error": [
                        {
                            "index": 1,
                            "errors": [
                                {
                                    "errorType": "entityNotFoundError",
                                    "errorValue": {
                                        "entityNotFoundError": {"reason": "ENTITY_NOT_FOUND", "message": "Not found"}
                                    },
                                }
                            ],
                        }
                    ],
                }
            },
        ),
    )
    result = client(fake).archive(PROFILE, kind, ["11", "22"])
    assert api_calls(fake)[0].json() == {id_filter: {"include": ["11", "22"]}}
    assert result.succeeded_ids == ["11"] and result.failed[0].reason.startswith("Not found")


def test_401_refreshes_once_then_succeeds():
    fake = FakeAmazon().on("POST", "/auth/o2/token", token_reply("Atza|old"), token_reply("Atza|new"))
    fake.on(
        "GET",
        "/na/v2/profiles",
        Reply(401, {"code": "UNAUTHORIZED", "details": "Authentication failed"}),
        Reply(200, []),
    )
    assert client(fake).list_profiles() == []
    auths = [c.headers["Authorization"] for c in api_calls(fake)]
    assert auths == ["Bearer Atza|old", "Bearer Atza|new"]


def test_401_twice_is_a_clear_error(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeAmazon().on(
        "POST",
        "/na/sp/campaigns/list",
        Reply(
            401,
            {"code": "UNAUTHORIZED", "details": f"Not authorized to access scope {PROFILE} with Bearer {ACCESS_TOKEN}"},
        ),
    )
    with pytest.raises(AmazonRequestError) as info:
        client(fake).list_entities(PROFILE, "campaigns")
    assert info.value.status == 401 and "Not authorized to access scope" in str(info.value)
    assert len(api_calls(fake)) == 2
    assert len(fake.calls_to("POST", "/auth/o2/token")) == 2
    for text in (str(info.value), repr(info.value), info.value.detail, caplog.text):
        for s in SECRETS:
            assert s not in text


def test_revoked_authorization_surfaces_typed():
    fake = FakeAmazon().on("POST", "/auth/o2/token", Reply(400, {"error": "invalid_grant"}))
    with pytest.raises(AuthorizationExpired):
        client(fake).list_profiles()


def test_400_not_retried_and_detail_kept():
    fake = FakeAmazon().on(
        "POST",
        "/na/sp/keywords/list",
        Reply(400, {"code": "INVALID_ARGUMENT", "message": "1 validation error detected: stateFilter.include"}),
    )
    with pytest.raises(AmazonRequestError) as info:
        client(fake).list_entities(PROFILE, "keywords")
    assert info.value.status == 400 and info.value.code == "INVALID_ARGUMENT"
    assert "validation error" in str(info.value)
    assert len(api_calls(fake)) == 1


def test_throttled_mutation_retried():
    fake = FakeAmazon().on(
        "PUT",
        "/na/sp/keywords",
        Reply(429, {"message": "Too Many Requests"}),
        Reply(207, {"keywords": {"success": [{"index": 0, "keywordId": "k"}], "error": []}}),
    )
    c = client(fake)
    assert c.update(PROFILE, "keywords", [{"keywordId": "k", "bid": 1.0}]).succeeded_ids == ["k"]
    assert c.stats.retries == 1 and c.stats.throttled == 1


REPORT_BODY = {
    "name": "x",
    "startDate": "2025-01-01",
    "endDate": "2025-01-07",
    "configuration": {
        "adProduct": "SPONSORED_PRODUCTS",
        "reportTypeId": "spCampaigns",
        "groupBy": ["campaign"],
        "columns": ["date", "campaignId"],
        "timeUnit": "DAILY",
        "format": "GZIP_JSON",
    },
}


def test_create_report_and_media_types():
    fake = FakeAmazon().on("POST", "/na/reporting/reports", Reply(200, {"reportId": "r-1", "status": "PENDING"}))
    assert client(fake).create_report(PROFILE, REPORT_BODY) == "r-1"
    call = api_calls(fake)[0]
    assert call.headers["Content-Type"] == "application/vnd.createasyncreportrequest.v3+json"
    assert call.json() == REPORT_BODY


def test_create_report_425_reuses_existing_id():
    rid = "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
    fake = FakeAmazon().on(
        "POST", "/na/reporting/reports", Reply(425, {"code": "425", "detail": f"The Request is a duplicate of : {rid}"})
    )
    assert client(fake).create_report(PROFILE, REPORT_BODY) == rid
    assert len(api_calls(fake)) == 1


def test_create_report_425_without_id_is_an_error():
    fake = FakeAmazon().on("POST", "/na/reporting/reports", Reply(425, {"code": "425", "detail": "Too early"}))
    with pytest.raises(AmazonRequestError) as info:
        client(fake).create_report(PROFILE, REPORT_BODY)
    assert info.value.status == 425


ROWS = [{"campaignId": 158410630682987, "impressions": 2216, "clicks": 13, "cost": 14.5, "date": "2025-01-01"}]


def report(status, url=None, reason=None):
    return Reply(200, {"reportId": "r-1", "status": status, "url": url, "failureReason": reason})


def test_wait_report_polls_then_downloads_without_auth():
    url = f"{BASE}/s3/report.json.gz?X-Amz-Signature=sig"
    fake = FakeAmazon().on(
        "GET", "/na/reporting/reports/r-1", report("PENDING"), report("PROCESSING"), report("COMPLETED", url)
    )
    fake.on("GET", "/s3/report.json.gz", Reply(200, raw=gz(ROWS), headers={"Content-Type": "application/x-gzip"}))
    sleep = NoSleep()
    assert client(fake).wait_report(PROFILE, "r-1", poll=2.0, sleep=sleep) == ROWS
    assert sleep.delays == [2.0, 3.0]
    download = fake.calls_to("GET", "/s3/report.json.gz")[0]
    for header in ("Authorization", "Amazon-Advertising-API-ClientId", "Amazon-Advertising-API-Scope"):
        assert header not in download.headers


def test_wait_report_downloads_and_transforms_inside_the_gate():
    """A sync shares a small gate so that only a few big reports exist as JSON objects at once."""
    url = f"{BASE}/s3/report.json.gz?X-Amz-Signature=sig"
    fake = FakeAmazon().on("GET", "/na/reporting/reports/r-1", report("PENDING"), report("COMPLETED", url))
    fake.on("GET", "/s3/report.json.gz", Reply(200, raw=gz(ROWS)))
    events = []

    class Gate:
        def __enter__(self):
            events.append(f"enter after {len(fake.calls_to('GET', '/na/reporting/reports/r-1'))} polls")

        def __exit__(self, *exc):
            events.append("exit")

    def transform(rows):
        events.append("transform")
        assert len(fake.calls_to("GET", "/s3/report.json.gz")) == 1  # downloaded before, inside the gate
        return len(rows)

    assert (
        client(fake).wait_report(PROFILE, "r-1", poll=1, sleep=NoSleep(), download_gate=Gate(), transform=transform)
        == 1
    )
    assert events == ["enter after 2 polls", "transform", "exit"]  # not held while the report is pending


def test_wait_report_failed_raises_report_failed():
    fake = FakeAmazon().on(
        "GET",
        "/na/reporting/reports/r-1",
        report("PENDING"),
        report("FAILED", reason="Report date is too far in the past"),
    )
    with pytest.raises(ReportFailed) as info:
        client(fake).wait_report(PROFILE, "r-1", poll=1, sleep=NoSleep())
    assert "too far in the past" in str(info.value) and info.value.report_id == "r-1"


def test_wait_report_expired_url_repolls_for_fresh_one(caplog):
    caplog.set_level(logging.DEBUG)
    old = f"{BASE}/s3/old.json.gz?X-Amz-Signature=sig"
    new = f"{BASE}/s3/new.json.gz?X-Amz-Signature=sig"
    fake = FakeAmazon().on("GET", "/na/reporting/reports/r-1", report("COMPLETED", old), report("COMPLETED", new))
    fake.on(
        "GET",
        "/s3/old.json.gz",
        Reply(403, raw=b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"),
    )
    fake.on("GET", "/s3/new.json.gz", Reply(200, raw=gz(ROWS)))
    assert client(fake).wait_report(PROFILE, "r-1", poll=1, sleep=NoSleep()) == ROWS
    assert len(fake.calls_to("GET", "/na/reporting/reports/r-1")) == 2
    assert "X-Amz-Signature" not in caplog.text


def test_download_expired_raises():
    fake = FakeAmazon().on("GET", "/s3/x.json.gz", Reply(400))
    with pytest.raises(DownloadExpired):
        client(fake).download_report(f"{BASE}/s3/x.json.gz")


def test_download_accepts_already_inflated_json():
    fake = FakeAmazon().on("GET", "/s3/x.json.gz", Reply(200, ROWS))
    assert client(fake).download_report(f"{BASE}/s3/x.json.gz") == ROWS


def test_wait_report_times_out():
    fake = FakeAmazon().on("GET", "/na/reporting/reports/r-1", report("PENDING"))
    sleep = NoSleep()
    with pytest.raises(ReportTimedOut):
        client(fake).wait_report(PROFILE, "r-1", poll=10, timeout=100, sleep=sleep)
    assert sum(sleep.delays) == pytest.approx(100)


def test_repr_has_no_secrets():
    c = client(FakeAmazon())
    c.tokens.get()
    for text in (repr(c), repr(c.tokens)):
        for s in SECRETS:
            assert s not in text


# -- integration: the sandbox over real HTTP ----------------------------------------------------
import datetime as _dt  # noqa: E402

import requests  # noqa: E402
from fakes import clear_faults, sandbox_clients, set_faults  # noqa: E402

from services.amazon.regions import region_for_country  # noqa: E402
from services.errors import InvalidCredentials  # noqa: E402


def _profile(ads, country="US"):
    return str(next(p for p in ads.list_profiles() if p["countryCode"] == country)["profileId"])


def _today(url):
    return _dt.date.fromisoformat(requests.get(f"{url}/_sandbox/state", timeout=5).json()["today"])


def _report_body(url, days=7, name="clients-test"):
    end = _today(url) - _dt.timedelta(days=1)
    return {
        "name": name,
        "startDate": str(end - _dt.timedelta(days=days - 1)),
        "endDate": str(end),
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": "spCampaigns",
            "groupBy": ["campaign"],
            "columns": ["date", "campaignId", "impressions", "clicks", "cost"],
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
        },
    }


def test_sandbox_profiles_route_by_country(sandbox):
    seen = {}
    for region in ("NA", "EU", "FE"):
        ads, _, _ = sandbox_clients(sandbox.url, region)
        for p in ads.list_profiles():
            assert region_for_country(p["countryCode"]) == region
            seen[p["countryCode"]] = region
    assert {"US", "UK", "DE"} <= set(seen)


def test_sandbox_profile_on_wrong_region_is_refused(sandbox):
    na, _, _ = sandbox_clients(sandbox.url, "NA")
    eu, _, _ = sandbox_clients(sandbox.url, "EU")
    uk = _profile(eu, "UK")
    with pytest.raises(AmazonRequestError) as info:
        na.list_entities(uk, "campaigns")
    assert info.value.status == 401 and "scope" in str(info.value).lower()


@pytest.mark.parametrize("kind", list(KINDS))
def test_sandbox_paging_matches_single_page(sandbox, kind):
    ads, _, _ = sandbox_clients(sandbox.url, "NA")
    pid = _profile(ads)
    whole = ads.list_entities(pid, kind)
    page_size = max(3, len(whole) // 4)  # a handful of pages, whatever the world's size
    paged = ads.list_entities(pid, kind, page_size=page_size)
    id_key = KINDS[kind][2] if kind != "negativeKeywords" else "keywordId"
    assert [e[id_key] for e in paged] == [e[id_key] for e in whole]
    assert len(whole) > page_size


def test_sandbox_update_archive_and_item_errors(fresh_sandbox):
    ads, _, _ = sandbox_clients(fresh_sandbox.url, "NA")
    pid = _profile(ads)
    keywords = ads.list_entities(pid, "keywords", {"stateFilter": {"include": ["ENABLED"]}})
    k1, k2 = keywords[0]["keywordId"], keywords[1]["keywordId"]
    result = ads.update(
        pid,
        "keywords",
        [{"keywordId": k1, "bid": 0.77}, {"keywordId": "999999999999", "bid": 0.5}, {"keywordId": k2, "bid": 5000}],
    )
    assert [r.ok for r in result.items] == [True, False, False]
    assert result.items[0].entity_id == k1 and result.items[0].entity["bid"] == 0.77
    assert result.items[1].reason and result.items[2].reason
    now = {k["keywordId"]: k for k in ads.list_entities(pid, "keywords", {"keywordIdFilter": {"include": [k1]}})}
    assert now[k1]["bid"] == 0.77
    archived = ads.archive(pid, "keywords", [k2])
    assert archived.succeeded_ids == [k2]
    after = ads.list_entities(pid, "keywords", {"keywordIdFilter": {"include": [k2]}})
    assert after[0]["state"] == "ARCHIVED"


def test_sandbox_create_negative_keywords(fresh_sandbox):
    ads, _, _ = sandbox_clients(fresh_sandbox.url, "NA")
    pid = _profile(ads)
    kw = ads.list_entities(pid, "keywords")[0]
    items = [
        {
            "campaignId": kw["campaignId"],
            "adGroupId": kw["adGroupId"],
            "keywordText": f"cheap thing {i}",
            "matchType": "NEGATIVE_EXACT",
            "state": "ENABLED",
        }
        for i in range(3)
    ]
    items.append(
        {
            "campaignId": kw["campaignId"],
            "adGroupId": kw["adGroupId"],
            "keywordText": "x",
            "matchType": "EXACT",
            "state": "ENABLED",
        }
    )
    result = ads.create(pid, "negativeKeywords", items)
    assert [r.ok for r in result.items] == [True, True, True, False]
    assert all(r.entity_id for r in result.succeeded)
    assert result.items[3].reason


def test_sandbox_report_lifecycle_and_425(sandbox):
    ads, _, _ = sandbox_clients(sandbox.url, "NA")
    pid = _profile(ads)
    body = _report_body(sandbox.url, name="dup-test")
    first = ads.create_report(pid, body)
    assert ads.create_report(pid, body) == first  # 425 duplicate -> same id
    rows = ads.wait_report(pid, first, poll=0.05, sleep=__import__("time").sleep)
    assert rows and {"date", "campaignId", "impressions"} <= set(rows[0])


def test_sandbox_faults_throttling_token_expiry_failed_and_expired_urls(fresh_sandbox):
    import time as _time

    url = fresh_sandbox.url
    sleep = NoSleep()
    ads, _, tokens = sandbox_clients(url, "NA", sleep=sleep)
    pid = _profile(ads)
    # 429 with Retry-After, twice, then success
    set_faults(
        url, {"rules": [{"method": "POST", "path": "/sp/keywords/list", "status": 429, "retry_after": 1, "times": 2}]}
    )
    assert ads.list_entities(pid, "keywords")
    assert sleep.delays[-2:] == [1.0, 1.0] and ads.stats.throttled >= 2
    # 429 without Retry-After: backoff is used
    set_faults(url, {"rules": [{"path": "/sp/campaigns/list", "status": 429, "times": 1}]})
    before = len(sleep.delays)
    assert ads.list_entities(pid, "campaigns")
    assert len(sleep.delays) == before + 1 and 0 <= sleep.delays[-1] <= 0.05
    # 500 past every retry -> AmazonUnavailable
    set_faults(url, {"rules": [{"path": "/sp/adGroups/list", "status": 500, "times": 10}]})
    with pytest.raises(AmazonUnavailable):
        ads.list_entities(pid, "adGroups")
    clear_faults(url)
    # access tokens that die early: one refresh on 401, then success
    set_faults(url, {"access_token_ttl": 0.3})
    tokens.invalidate()
    tokens.get()
    refreshes = tokens.refreshes
    _time.sleep(0.5)
    assert ads.list_entities(pid, "campaigns")
    assert tokens.refreshes == refreshes + 1
    clear_faults(url)
    # FAILED report
    set_faults(url, {"fail_next_reports": 1})
    rid = ads.create_report(pid, _report_body(url, name="fail-test"))
    with pytest.raises(ReportFailed) as info:
        ads.wait_report(pid, rid, poll=0.05, sleep=_time.sleep)
    assert info.value.reason
    # expired download URLs: the client re-polls for fresh ones, then gives up clearly
    set_faults(url, {"expire_download_urls": True})
    rid = ads.create_report(pid, _report_body(url, name="expire-test"))
    with pytest.raises(DownloadExpired):
        ads.wait_report(pid, rid, poll=0.05, sleep=_time.sleep)
    clear_faults(url)
    assert ads.wait_report(pid, rid, poll=0.05, sleep=_time.sleep)


def test_sandbox_auth_errors_are_typed_and_clean(sandbox, caplog):
    from sandbox.credentials import AUTHORIZATIONS

    caplog.set_level(logging.DEBUG)
    revoked = AUTHORIZATIONS["revoked"]["refresh_token"]
    ads, _, _ = sandbox_clients(sandbox.url, "NA", refresh_token=revoked)
    with pytest.raises(AuthorizationExpired) as info:
        ads.list_profiles()
    bad_secret = "amzn1.oa2-cs.v1." + "0" * 64
    ads2, _, _ = sandbox_clients(sandbox.url, "NA", client_secret=bad_secret)
    with pytest.raises(InvalidCredentials) as info2:
        ads2.list_profiles()
    for exc in (info.value, info2.value):
        for text in (str(exc), repr(exc), caplog.text):
            assert revoked not in text and bad_secret not in text and "Atzr|" not in text


ECHO = f"token {ACCESS_TOKEN} refresh {REFRESH_TOKEN} secret {CLIENT_SECRET} Bearer {ACCESS_TOKEN}"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 415, 422, 425, 429, 500])
def test_no_secret_in_any_error_path(status, caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeAmazon().on(
        "POST",
        "/na/sp/keywords/list",
        Reply(status, {"code": str(status), "details": ECHO, "message": ECHO, "detail": ECHO}),
    )
    fake.on("POST", "/na/reporting/reports", Reply(status, {"code": str(status), "detail": ECHO}))
    fake.on("GET", "/s3/r.json.gz", Reply(status, raw=ECHO.encode()))
    c = client(fake)
    for call in (
        lambda: c.list_entities(PROFILE, "keywords"),
        lambda: c.create_report(PROFILE, REPORT_BODY),
        lambda: c.download_report(f"{BASE}/s3/r.json.gz?X-Amz-Signature=sig"),
    ):
        with pytest.raises(DashboardError) as info:
            call()
        exc = info.value
        texts = [str(exc), repr(exc), getattr(exc, "detail", "") or "", getattr(exc, "user_message", "")]
        for text in texts + [caplog.text]:
            for s in SECRETS:
                assert s not in text, (status, text)


def test_create_chunk_whose_answer_is_lost_is_not_resent_and_other_chunks_keep_their_answers(monkeypatch):
    """Amazon has no idempotency key: a 5xx on a create chunk may hide entities that were made, so that chunk is
    marked outcome_unknown (to be looked up) instead of being sent again; the chunks around it keep their answer."""
    import services.amazon.ads as ads

    monkeypatch.setattr(ads, "MAX_BATCH", 2)
    ok = _multistatus_handler("keywords", "keywordId", "keyword")
    fake = FakeAmazon().on("POST", "/na/sp/keywords", ok, Reply(500), ok)
    items = [{"n": n, "keywordText": f"kw {n}"} for n in (1, 2, 4, 5, 7)]
    result = client(fake).create(PROFILE, "keywords", items)
    assert len(api_calls(fake)) == 3  # the failed chunk was not repeated
    unknown = [r.index for r in result.items if r.outcome_unknown]
    assert unknown == [2, 3]
    assert all(r.ok for r in result.items if r.index not in unknown)
    assert all(not r.ok and "may or may not" in r.reason for r in result.items if r.index in unknown)


def test_sandbox_bid_recommendations_read_range_and_curve(sandbox):
    """The client asks v5 with analysis and returns the range (low < suggested < high) and a rising impression curve
    per keyword, in the order asked."""
    from services.amazon.bid_recommendations import keyword_expression

    ads, _, _ = sandbox_clients(sandbox.url, "NA")
    pid = _profile(ads)
    kws = [k for k in ads.list_entities(pid, "keywords") if k["state"] == "ENABLED" and k["matchType"] == "EXACT"]
    ag = kws[0]["adGroupId"]
    same = [k for k in kws if k["adGroupId"] == ag][:3]
    recs = ads.bid_recommendations(
        pid, same[0]["campaignId"], ag, [keyword_expression(k["keywordText"], k["matchType"]) for k in same]
    )
    assert [r.value for r in recs] == [k["keywordText"] for k in same]
    for r in recs:
        assert 0 < r.low < r.suggested < r.high
        imps = [n for _, n in r.impressions]
        assert len(imps) >= 3 and imps == sorted(imps)
