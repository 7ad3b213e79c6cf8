"""python-amazon-sp-api (PyPI), pointed at the sandbox, fetches one GET_SALES_AND_TRAFFIC_REPORT: the sandbox's
wire protocol is what a widely used third-party client expects, not only what our own client sends."""

from __future__ import annotations

import datetime as dt
import json
import time
from urllib.parse import urlparse

import pytest

from sandbox import demo_credentials

sp_api = pytest.importorskip("sp_api", reason="python-amazon-sp-api is in requirements-dev.txt")


def test_python_amazon_sp_api_fetches_a_sales_and_traffic_report(sandbox, monkeypatch):
    from sp_api.api import ReportsV2
    from sp_api.auth.access_token_client import AccessTokenClient
    from sp_api.base import Marketplaces

    # LWA at the sandbox instead of https://api.amazon.com; the SP-API endpoint likewise
    monkeypatch.setattr(AccessTokenClient, "scheme", "http://", raising=False)
    monkeypatch.setattr(AccessTokenClient, "host", urlparse(sandbox.url).netloc)
    creds = demo_credentials()
    client = ReportsV2(
        credentials={
            "refresh_token": creds["refresh_token"],
            "lwa_app_id": creds["client_id"],
            "lwa_client_secret": creds["client_secret"],
        },
        marketplace=Marketplaces.US,
    )
    # the /na prefix stands for sellingpartnerapi-na (sandbox README); the library derives its Host header from an
    # https:// endpoint, which this http:// one is not, and the sandbox then falls back to its own address
    client.endpoint = sandbox.url + "/na"
    today = sandbox.world.today
    created = client.create_report(
        reportType="GET_SALES_AND_TRAFFIC_REPORT",
        marketplaceIds=[Marketplaces.US.marketplace_id],
        dataStartTime=(today - dt.timedelta(days=10)).isoformat(),
        dataEndTime=(today - dt.timedelta(days=4)).isoformat(),
        reportOptions={"dateGranularity": "DAY", "asinGranularity": "SKU"},
    )
    report_id = created.payload["reportId"]
    for _ in range(100):
        report = client.get_report(report_id).payload
        if report["processingStatus"] in ("DONE", "FATAL"):
            break
        time.sleep(0.05)
    assert report["processingStatus"] == "DONE", report
    doc = client.get_report_document(report["reportDocumentId"], download=True, decrypt=True)
    body = json.loads(doc.payload["document"])
    assert body["reportSpecification"]["reportType"] == "GET_SALES_AND_TRAFFIC_REPORT"
    assert len(body["salesAndTrafficByDate"]) == 7
    assert all("sku" in x for x in body["salesAndTrafficByAsin"])
