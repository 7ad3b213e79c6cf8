"""SP-API Catalog Items 2022-04-01: item names, brands and main images in each marketplace's language.

``GET /catalog/2022-04-01/items?identifiers=A,B&identifiersType=ASIN&marketplaceIds=…&includedData=summaries,images``
searches up to 20 ASINs; ``GET /catalog/2022-04-01/items/{asin}`` returns one. Amazon's rate limit (about
2 requests per second, burst 2) is enforced per seller with a token bucket: past it, 429 QuotaExceeded.
"""

from __future__ import annotations

import hashlib
import time

from sandbox import catalog as cat
from sandbox.protocol import MARKETPLACE_COUNTRY, Request, Response, SandboxState, spapi_error
from sandbox.spapi_reports_api import spapi_auth

MAX_IDENTIFIERS = 20
RATE_PER_SECOND = 2.0
BURST = 2.0
INCLUDED_DATA = {"attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
                 "relationships", "salesRanks", "summaries", "vendorDetails"}  # fmt: skip

# German renderings of the catalogue's product nouns and attributes (DE listings are written in German).
_DE_NOUNS = {
    "yoga mat": "Yogamatte",
    "water bottle": "Trinkflasche",
    "garlic press": "Knoblauchpresse",
    "phone case": "Handyhülle",
    "dog leash": "Hundeleine",
    "coffee grinder": "Kaffeemühle",
    "led strip lights": "LED-Lichtleiste",
    "resistance bands": "Fitnessbänder",
    "cutting board": "Schneidebrett",
    "phone holder car": "Handyhalterung Auto",
    "backpack": "Rucksack",
    "scented candles": "Duftkerzen",
}
_DE_ATTRS = {
    "thick": "dick", "non slip": "rutschfest", "extra large": "extra groß", "cork": "Kork", "foldable": "faltbar",
    "travel": "Reise", "eco": "Öko", "cushioned": "gepolstert", "purple": "lila", "black": "schwarz",
    "kids": "Kinder", "wide": "breit", "long": "lang", "lightweight": "leicht", "insulated": "isoliert",
    "stainless steel": "Edelstahl", "bpa free": "BPA-frei", "leak proof": "auslaufsicher", "glass": "Glas",
    "collapsible": "faltbar", "large": "groß", "small": "klein", "pink": "rosa", "blue": "blau",
    "hiking": "Wandern", "cold": "kalt", "hot": "heiß", "heavy duty": "robust", "easy clean": "leicht zu reinigen",
    "professional": "professionell", "dishwasher safe": "spülmaschinenfest", "kitchen": "Küche", "silver": "silber",
    "ergonomic": "ergonomisch", "rust proof": "rostfrei", "new": "neu", "german": "deutsch", "clear": "transparent",
    "shockproof": "stoßfest", "leather": "Leder", "wallet": "Klapphülle", "cute": "süß", "matte": "matt",
    "reflective": "reflektierend", "hands free": "freihändig", "rope": "Seil", "padded handle": "gepolsterter Griff",
    "training": "Training", "double": "doppelt", "waterproof": "wasserdicht", "durable": "langlebig", "red": "rot",
    "electric": "elektrisch", "manual": "manuell", "adjustable": "verstellbar", "portable": "tragbar",
    "ceramic": "Keramik", "quiet": "leise", "wooden": "Holz", "bedroom": "Schlafzimmer", "smart": "smart",
    "warm white": "warmweiß", "color changing": "Farbwechsel", "outdoor": "Außen", "dimmable": "dimmbar",
    "set": "Set", "fabric": "Stoff", "heavy": "schwer", "with handles": "mit Griffen", "women": "Damen",
    "men": "Herren", "mini": "Mini", "bamboo": "Bambus", "wood": "Holz", "plastic": "Kunststoff", "set of 3": "3er-Set",
    "magnetic": "magnetisch", "universal": "universal", "strong": "stark", "anti theft": "Diebstahlschutz",
    "school": "Schule", "business": "Business", "lavender": "Lavendel", "gift set": "Geschenkset",
    "long lasting": "lange Brenndauer", "natural": "natürlich", "luxury": "Luxus",
}  # fmt: skip


def _theme(p, i: int):
    return cat.THEMES[int(p.p_theme[i])]


def item_name(p, i: int, country: str) -> str:
    """The listing title in the marketplace's language (the world's titles are English)."""
    if country != "DE":
        return p.p_title[i]
    _, nouns, attrs, brand = _theme(p, i)
    attr = attrs[i % len(attrs)]
    return f"{brand} {_DE_NOUNS.get(nouns[0], nouns[0].title())} {_DE_ATTRS.get(attr, attr)} ({i + 1})"


def image_link(asin: str) -> str:
    digest = hashlib.sha256(("image/" + asin).encode()).hexdigest()[:11]
    return f"https://m.media-amazon.com/images/I/{digest}L.jpg"


def _item(p, i: int, marketplace_id: str, included: set[str]) -> dict:
    country = MARKETPLACE_COUNTRY.get(marketplace_id, "US")
    label, _, _, brand = _theme(p, i)
    out: dict = {"asin": p.p_asin[i]}
    if "summaries" in included:
        out["summaries"] = [
            {
                "marketplaceId": marketplace_id,
                "brand": brand,
                "itemName": item_name(p, i, country),
                "manufacturer": brand,
                "itemClassification": "BASE_PRODUCT",
                "websiteDisplayGroupName": label,
            }
        ]
    if "images" in included:
        out["images"] = [
            {
                "marketplaceId": marketplace_id,
                "images": [{"variant": "MAIN", "link": image_link(p.p_asin[i]), "height": 500, "width": 500}],
            }
        ]
    return out


def _take_token(state: SandboxState, seller_id: str) -> bool:
    """Token bucket per seller: RATE_PER_SECOND refill, BURST capacity."""
    now = time.monotonic()
    with state.lock:
        # kept on the state (one per server) without widening SandboxState for one endpoint
        buckets = state.__dict__.setdefault("catalog_buckets", {})
        tokens, last = buckets.get(seller_id, (BURST, now))
        tokens = min(BURST, tokens + (now - last) * RATE_PER_SECOND)
        if tokens < 1.0:
            buckets[seller_id] = (tokens, now)
            return False
        buckets[seller_id] = (tokens - 1.0, now)
        return True


def _common(state: SandboxState, req: Request) -> tuple[dict | None, str, set[str], Response | None]:
    auth = spapi_auth(state, req)
    mkts = [m for m in (req.q("marketplaceIds") or "").split(",") if m]
    if len(mkts) != 1:
        return None, "", set(), spapi_error(400, "InvalidInput", "Invalid input", "marketplaceIds: exactly one")
    seller_mkts = {p["accountInfo"]["marketplaceStringId"] for p in state.seller_profiles(auth["seller_id"])}
    if mkts[0] not in seller_mkts:
        return None, "", set(), spapi_error(400, "InvalidInput", "Invalid input", f"Invalid marketplaceId {mkts[0]}")
    included = {x for x in (req.q("includedData") or "summaries").split(",") if x}
    bad = included - INCLUDED_DATA
    if bad:
        return None, "", set(), spapi_error(400, "InvalidInput", "Invalid input", f"includedData: {sorted(bad)}")
    if not _take_token(state, auth["seller_id"]):
        return None, "", set(), spapi_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
    return auth, mkts[0], included, None


def _profile(state: SandboxState, seller_id: str, marketplace_id: str):
    with state.lock:
        return state.world._p_by_seller(seller_id, marketplace_id)


def search_items(state: SandboxState, req: Request, m) -> Response:
    auth, mkt, included, err = _common(state, req)
    if err is not None:
        return err
    ids = [x.strip() for x in (req.q("identifiers") or "").split(",") if x.strip()]
    if not ids:
        return spapi_error(400, "InvalidInput", "Invalid input", "identifiers or keywords is required")
    if req.q("identifiersType") != "ASIN":
        return spapi_error(400, "InvalidInput", "Invalid input", "identifiersType must be ASIN when identifiers is set")
    if len(ids) > MAX_IDENTIFIERS:
        return spapi_error(400, "InvalidInput", "Invalid input", f"identifiers: at most {MAX_IDENTIFIERS} values")
    page_size = req.q("pageSize")
    if page_size is not None and (not page_size.isdigit() or not 1 <= int(page_size) <= MAX_IDENTIFIERS):
        return spapi_error(400, "InvalidInput", "Invalid input", "pageSize must be between 1 and 20")
    p = _profile(state, auth["seller_id"], mkt)
    items = []
    if p is not None:
        for a in dict.fromkeys(ids):
            i = p.asin_index.get(a)
            if i is not None:
                items.append(_item(p, i, mkt, included))
    return Response(200, {"numberOfResults": len(items), "items": items})


def get_item(state: SandboxState, req: Request, m) -> Response:
    auth, mkt, included, err = _common(state, req)
    if err is not None:
        return err
    asin = m.group(1)
    p = _profile(state, auth["seller_id"], mkt)
    i = p.asin_index.get(asin) if p is not None else None
    if i is None:
        return spapi_error(404, "NotFound", f"Requested item '{asin}' not found in marketplace '{mkt}'.")
    return Response(200, _item(p, i, mkt, included))
