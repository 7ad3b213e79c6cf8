"""Catalog Items 2022-04-01 in the sandbox for other sellers' ASINs (product targets, ASINs shoppers type) and the
main images the sandbox serves itself (issue 14: every ASIN with its name; pictures without leaving the machine)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from sandbox import catalog_api
from tests.sandbox.conftest import lwa_token
from tests.sandbox.test_specs import json_validate

US, DE = "ATVPDKIKX0DER", "A1PA6795UKMFR9"


@pytest.fixture(scope="module")
def token(sandbox):
    return lwa_token(sandbox.url)


def _get(url, token, path, **params):
    """One Catalog Items call; a 429 (2 requests per second per seller) waits for the bucket and asks again."""
    for _ in range(20):
        r = requests.get(url + path, headers={"x-amz-access-token": token}, params=params, timeout=30)
        if r.status_code != 429:
            return r
        time.sleep(0.5)
    return r


def _own_profiles(world):
    seller = world.sellers()[0]
    return {p.marketplace: p for p in world._profiles.values() if p.seller["sellerId"] == seller["sellerId"]}


def _targeted_asins(world, profile) -> list[str]:
    """ASINs the seller's product targets aim at: other sellers' listings, not in the seller's catalogue."""
    out = []
    for t in world.entities(profile.profile_id, "targets"):
        for e in t.get("expression") or []:
            if e.get("type") == "ASIN_SAME_AS" and e.get("value") not in profile.asin_index:
                out.append(e["value"])
    return list(dict.fromkeys(out))


def test_other_sellers_asins_have_names_brands_and_images_in_the_marketplaces_language(sandbox, token, specs_dir):
    by_mkt = _own_profiles(sandbox.world)
    us = by_mkt[US]
    theirs = _targeted_asins(sandbox.world, us)[:19]
    assert len(theirs) >= 10, "the demo seller has product targets on other sellers' ASINs"
    r = _get(sandbox.url, token, "/catalog/2022-04-01/items", identifiers=",".join([*theirs, us.p_asin[0]]),
             identifiersType="ASIN", marketplaceIds=US, includedData="summaries,images")  # fmt: skip
    assert r.status_code == 200, r.text
    json_validate(specs_dir, "catalogItems_2022-04-01.json", r.json(), "ItemSearchResults")
    items = {i["asin"]: i for i in r.json()["items"]}
    assert list(items) == [*theirs, us.p_asin[0]]
    own_brands = {b for _, _, _, b in (catalog_api.cat.THEMES[int(t)] for t in us.p_theme)}
    for a in theirs:
        summary = items[a]["summaries"][0]
        assert summary["brand"] in catalog_api.COMPETITOR_BRANDS and summary["brand"] not in own_brands
        assert summary["itemName"].startswith(summary["brand"] + " ")
        assert summary["websiteDisplayGroupName"] in {catalog_api.cat.THEMES[int(t)][0] for t in us.p_theme}
    # the same listing in Germany: same brand, German words
    one = _get(sandbox.url, token, f"/catalog/2022-04-01/items/{theirs[0]}", marketplaceIds=DE,
               includedData="summaries,images")  # fmt: skip
    assert one.status_code == 200, one.text
    json_validate(specs_dir, "catalogItems_2022-04-01.json", one.json(), "Item")
    german, english = one.json()["summaries"][0], items[theirs[0]]["summaries"][0]
    assert german["brand"] == english["brand"] and german["itemName"] != english["itemName"]
    # the main image is on the sandbox itself: a small SVG, no address outside the machine
    link = items[theirs[0]]["images"][0]["images"][0]["link"]
    assert link == f"{sandbox.url}/_images/{theirs[0]}.svg"
    picture = requests.get(link, timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/svg+xml"
    assert picture.text.startswith("<svg") and "http://" not in picture.text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert requests.get(f"{sandbox.url}/_images/not-an-asin.svg", timeout=10).status_code == 404
    # a malformed identifier is nobody's listing
    bad = _get(sandbox.url, token, "/catalog/2022-04-01/items/B0lowercase", marketplaceIds=US)
    assert bad.status_code == 404, bad.text
    assert json.loads(bad.text)["errors"][0]["code"] == "NotFound"
