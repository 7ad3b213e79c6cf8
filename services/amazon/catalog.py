"""Catalog Items API 2022-04-01 client: product names, brands and main images for ASINs.

Amazon searches up to 20 identifiers per call and allows about 2 requests per second (burst 2), so the client
batches 20 ASINs per call and spaces its calls; a 429 is still retried by the HTTP policy. Titles and brands are
seller-typed text: callers render them as text, never as markup or formulas.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from services.amazon.spapi import SpApiReports

CATALOG = "/catalog/2022-04-01/items"
MAX_IDENTIFIERS = 20
MIN_INTERVAL = 0.5  # 2 requests per second


@dataclass(frozen=True)
class CatalogItem:
    asin: str
    marketplace_id: str
    name: str | None
    brand: str | None
    image_url: str | None


def image_address(link: object) -> str | None:
    """An image URL a browser may load: Amazon's https media hosts, or plain http on this machine (the sandbox
    draws its images itself, so a demo shows pictures without reaching outside). Anything else (javascript:, data:,
    http elsewhere) is dropped."""
    if not isinstance(link, str):
        return None
    if link.startswith("https://"):
        return link
    parts = urlsplit(link)
    return link if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1") else None


def parse_item(item: dict, marketplace_id: str) -> CatalogItem | None:
    """One search result or item response -> CatalogItem (the marketplace's own summary and MAIN image)."""
    asin = item.get("asin") if isinstance(item, dict) else None
    if not isinstance(asin, str) or not asin:
        return None

    def for_mkt(entries) -> dict:
        entries = [e for e in entries or [] if isinstance(e, dict)]
        return next((e for e in entries if e.get("marketplaceId") == marketplace_id), entries[0] if entries else {})

    summary = for_mkt(item.get("summaries"))
    images = [i for i in for_mkt(item.get("images")).get("images") or [] if isinstance(i, dict)]
    main = next((i for i in images if i.get("variant") == "MAIN"), images[0] if images else {})
    name, brand, link = summary.get("itemName"), summary.get("brand"), main.get("link")
    return CatalogItem(
        asin,
        marketplace_id,
        name if isinstance(name, str) else None,
        brand if isinstance(brand, str) else None,
        image_address(link),
    )


class CatalogItems:
    """Names for many ASINs in as few calls as Amazon allows, at most 2 calls per second.

    The pace is shared by every instance in the process: Amazon's limit is per selling partner, not per region."""

    _lock = threading.Lock()
    _next_call = 0.0

    def __init__(
        self,
        spapi: SpApiReports,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spapi = spapi
        self._sleep, self._clock = sleep, clock

    def _pace(self) -> None:
        cls = type(self)
        with cls._lock:
            wait = cls._next_call - self._clock()
            if wait > 0:
                self._sleep(wait)
            cls._next_call = max(self._clock(), cls._next_call) + MIN_INTERVAL

    def items(self, marketplace_id: str, asins: Iterable[str]) -> list[CatalogItem]:
        unique = list(dict.fromkeys(a.strip() for a in asins if a and a.strip()))
        out: list[CatalogItem] = []
        for i in range(0, len(unique), MAX_IDENTIFIERS):
            batch = unique[i : i + MAX_IDENTIFIERS]
            query = urlencode(
                {
                    "identifiers": ",".join(batch),
                    "identifiersType": "ASIN",
                    "marketplaceIds": marketplace_id,
                    "includedData": "summaries,images",
                    "pageSize": str(MAX_IDENTIFIERS),
                }
            )
            self._pace()
            payload = self.spapi.get_json(f"{CATALOG}?{query}")
            for item in payload.get("items") or []:
                parsed = parse_item(item, marketplace_id)
                if parsed is not None:
                    out.append(parsed)
        return out
