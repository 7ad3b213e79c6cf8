"""Catalog Items client: 20 ASINs per call, at most 2 calls per second, defensive parsing of Amazon's shapes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from services.amazon.catalog import CatalogItems, parse_item


class FakeSpApi:
    def __init__(self):
        self.paths: list[str] = []

    def get_json(self, path: str) -> dict:
        self.paths.append(path)
        ids = parse_qs(urlparse(path).query)["identifiers"][0].split(",")
        items = [{"asin": a, "summaries": [{"marketplaceId": "M", "itemName": f"Name {a}", "brand": "B"}]} for a in ids]
        return {"numberOfResults": len(items), "items": items}


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_batches_of_twenty_paced_at_two_per_second():
    CatalogItems._next_call = 0.0
    spapi, clock = FakeSpApi(), FakeClock()
    asins = [f"B{i:09d}" for i in range(45)] + ["B000000000", " "]  # a duplicate and a blank
    items = CatalogItems(spapi, sleep=clock.sleep, clock=clock.time).items("M", asins)
    assert [len(parse_qs(urlparse(p).query)["identifiers"][0].split(",")) for p in spapi.paths] == [20, 20, 5]
    assert all(parse_qs(urlparse(p).query)["includedData"] == ["summaries,images"] for p in spapi.paths)
    assert len(items) == 45 and items[0].name == "Name B000000000"
    assert clock.slept == [0.5, 0.5]  # three calls: the first at once, then one every half second


def test_parse_item_takes_the_marketplaces_own_summary_and_main_image():
    item = {
        "asin": "B0TEST0001",
        "summaries": [{"marketplaceId": "X", "itemName": "other"}, {"marketplaceId": "M", "itemName": "<b>=1+1"}],
        "images": [{"marketplaceId": "M", "images": [
            {"variant": "PT01", "link": "https://a/1.jpg", "height": 1, "width": 1},
            {"variant": "MAIN", "link": "https://a/main.jpg", "height": 1, "width": 1}]}],
    }  # fmt: skip
    got = parse_item(item, "M")
    assert (got.name, got.image_url, got.brand) == ("<b>=1+1", "https://a/main.jpg", None)
    assert parse_item({"asin": ""}, "M") is None and parse_item("x", "M") is None
    assert (
        parse_item({"asin": "B1", "images": [{"images": [{"variant": "MAIN", "link": "javascript:x"}]}]}, "M").image_url
        is None
    )


def test_image_addresses_are_amazons_https_or_this_machines_sandbox():
    """The sandbox serves its images on loopback http; nothing else that is not https reaches a browser."""
    from services.amazon.catalog import image_address

    assert image_address("https://m.media-amazon.com/images/I/x.jpg") == "https://m.media-amazon.com/images/I/x.jpg"
    assert image_address("http://127.0.0.1:8123/_images/B0ABC.svg") == "http://127.0.0.1:8123/_images/B0ABC.svg"
    assert image_address("http://localhost:80/x.svg") == "http://localhost:80/x.svg"
    for bad in ("http://evil.example/x.jpg", "http://127.0.0.1.evil.example/x", "javascript:alert(1)", "data:x", None):
        assert image_address(bad) is None, bad
