"""POST /sp/targets/bid/recommendations (v4 and v5): the shape validates against SponsoredProducts.json, the numbers
follow the sandbox's truth (the suggestion tracks the competitor bid, the analysed impressions rise with the bid),
and a widely used third-party client (python-amazon-ad-api) reads it."""

from __future__ import annotations

from urllib.parse import urlparse

import numpy as np
import pytest

from sandbox import demo_credentials
from tests.sandbox.test_specs import SP, oas_validate, response_schema

PATH = "/sp/targets/bid/recommendations"
V4 = "application/vnd.spthemebasedbidrecommendation.v4+json"
V5 = "application/vnd.spthemebasedbidrecommendation.v5+json"


def _exact_keywords(world, pid: str, n: int) -> tuple[dict, list[dict]]:
    """An enabled ad group with at least `n` enabled EXACT keywords (that ad group, its first n keywords)."""
    by_ag: dict[str, list[dict]] = {}
    for k in world.entities(pid, "keywords"):
        if k["state"] == "ENABLED" and k["matchType"] == "EXACT":
            by_ag.setdefault(k["adGroupId"], []).append(k)
    ag_id, kws = max(by_ag.items(), key=lambda kv: len(kv[1]))
    assert len(kws) >= n
    return world.get_entity(pid, "adGroups", ag_id), kws[:n]


def _request(ag: dict, kws: list[dict], **extra) -> dict:
    return {
        "recommendationType": "BIDS_FOR_EXISTING_AD_GROUP",
        "campaignId": ag["campaignId"],
        "adGroupId": ag["adGroupId"],
        "targetingExpressions": [{"type": "KEYWORD_EXACT_MATCH", "value": k["keywordText"]} for k in kws],
        **extra,
    }


def test_v4_and_v5_validate_against_the_spec(specs_dir, ads, sandbox):
    pid = ads.profile_id()
    ag, kws = _exact_keywords(sandbox.world, pid, 3)
    body = [*_request(ag, kws)["targetingExpressions"], {"type": "CLOSE_MATCH"}]
    for media, extra in ((V4, {}), (V5, {"includeAnalysis": True})):
        req = {**_request(ag, kws, **extra), "targetingExpressions": body}
        req_schema = _load_request_schema(specs_dir, media)
        oas_validate(specs_dir, SP, req_schema, req)
        r = ads.post(PATH, req, profile_id=pid, **{"Content-Type": media, "Accept": media})
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == media
        oas_validate(specs_dir, SP, response_schema(specs_dir, SP, PATH, "post", 200, media)["schema"], r.json())
        rec = r.json()["bidRecommendations"][0]
        assert [x["targetingExpression"] for x in rec["bidRecommendationsForTargetingExpressions"]] == body
        assert ("bidAnalysesForTargetingExpressions" in rec) == (media == V5)
    bad = ads.post(PATH, {**_request(ag, kws), "adGroupId": "1"}, profile_id=pid, **{"Content-Type": V4})
    assert bad.status_code == 400
    oas_validate(specs_dir, SP, response_schema(specs_dir, SP, PATH, "post", 400, V4)["schema"], bad.json())
    assert "ad group" in bad.json()["details"]
    v3 = ads.post(PATH, _request(ag, kws), profile_id=pid, **{"Content-Type": V4.replace("v4", "v3")})
    assert v3.status_code == 415 and "v4" in v3.json()["details"]


def _load_request_schema(specs_dir, media):
    """The existing-ad-group branch of the request's oneOf (its discriminator mapping holds plain strings, which
    the validator cannot follow; the branch itself is a $ref)."""
    from tests.sandbox.test_specs import _load

    schema = _load(specs_dir, SP)["paths"][PATH]["post"]["requestBody"]["content"][media]["schema"]
    return {"$ref": schema["discriminator"]["mapping"]["BIDS_FOR_EXISTING_AD_GROUP"]}


def test_suggestions_follow_the_competitor_bid_and_impressions_rise_with_the_bid(ads, sandbox):
    """The suggested bid is the auction's level (the target's competitor bid c) with noise: across 40 keywords it
    correlates with c, its median ratio is near 1; the analysed impressions never fall as the bid rises."""
    pid = ads.profile_id()
    ag, kws = _exact_keywords(sandbox.world, pid, 1)
    truth = sandbox.world.truth_targets(pid).set_index("entity_id")
    picked = truth[(truth["kind"] == "keyword") & (truth["match_type"] == "EXACT") & (truth["state"] == "ENABLED")]
    ratios, comps, suggested = [], [], []
    for eid in picked.index[:40]:
        kw = sandbox.world.get_entity(pid, "keywords", eid)
        ag = sandbox.world.get_entity(pid, "adGroups", kw["adGroupId"])
        r = ads.post(
            PATH, _request(ag, [kw], includeAnalysis=True), profile_id=pid, **{"Content-Type": V5, "Accept": V5}
        )
        assert r.status_code == 200, r.text
        rec = r.json()["bidRecommendations"][0]
        low, mid, high = [b["suggestedBid"] for b in rec["bidRecommendationsForTargetingExpressions"][0]["bidValues"]]
        assert low < mid < high
        comp = float(picked.loc[eid, "competitor_bid"])
        comps.append(comp)
        suggested.append(mid)
        ratios.append(mid / comp)
        curve = rec["bidAnalysesForTargetingExpressions"][0]["bidAnalyses"]["ALL"]
        imps = [a["impactMetrics"]["estimatedImpressionAvg"] for a in curve]
        assert [a["bid"] for a in curve] == sorted(a["bid"] for a in curve)
        assert imps == sorted(imps) and imps[-1] > imps[0]
    assert 0.85 < float(np.median(ratios)) < 1.15
    assert np.corrcoef(np.log(comps), np.log(suggested))[0, 1] > 0.7
    # the same question the same day answers the same (noise drawn per target and day)
    again = ads.post(PATH, _request(ag, [kw]), profile_id=pid, **{"Content-Type": V4})
    first = ads.post(PATH, _request(ag, [kw]), profile_id=pid, **{"Content-Type": V4})
    assert again.json() == first.json()


ad_api = pytest.importorskip("ad_api", reason="python-amazon-ad-api is in requirements-dev.txt")


def test_python_amazon_ad_api_reads_bid_recommendations(sandbox, monkeypatch):
    from ad_api.api.sp.bid_recommendations_v3 import BidRecommendationsV3
    from ad_api.auth.access_token_client import AccessTokenClient

    monkeypatch.setattr(AccessTokenClient, "scheme", "http://", raising=False)
    monkeypatch.setattr(AccessTokenClient, "host", urlparse(sandbox.url).netloc)
    creds = demo_credentials()
    us = next(p for p in sandbox.world.profiles() if p["countryCode"] == "US")
    pid = str(us["profileId"])
    client = BidRecommendationsV3(
        credentials={
            "refresh_token": creds["refresh_token"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "profile_id": pid,
        }
    )
    client.endpoint = sandbox.url + "/na"  # stands for advertising-api.amazon.com
    ag, kws = _exact_keywords(sandbox.world, pid, 2)
    res = client.get_bid_recommendations(version=4, body=_request(ag, kws))
    recs = res.payload["bidRecommendations"][0]["bidRecommendationsForTargetingExpressions"]
    assert [r["targetingExpression"]["value"] for r in recs] == [k["keywordText"] for k in kws]
    assert all(len(r["bidValues"]) == 3 and r["bidValues"][1]["suggestedBid"] > 0 for r in recs)
