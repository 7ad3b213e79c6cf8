"""SP-API Catalog Items 2022-04-01: item names, brands and main images in each marketplace's language.

``GET /catalog/2022-04-01/items?identifiers=A,B&identifiersType=ASIN&marketplaceIds=…&includedData=summaries,images``
searches up to 20 ASINs; ``GET /catalog/2022-04-01/items/{asin}`` returns one. Amazon's rate limit (about
2 requests per second, burst 2) is enforced per seller with a token bucket: past it, 429 QuotaExceeded.

Amazon's catalogue holds every product, not only the seller's: the ASINs shoppers type and product targets aim at
are mostly other sellers' listings. The simulated world never lists those, so any well-formed ASIN that is not the
seller's is a competitor's listing whose brand, category and words follow from the ASIN (same ASIN, same listing),
in one of the seller's own categories and in the marketplace's language. Main images are served by the sandbox
itself (``GET /_images/{asin}.svg``, a small drawing), so a demo shows a picture without leaving the machine.
"""

from __future__ import annotations

import hashlib
import re
import time
from html import escape

from sandbox import catalog as cat
from sandbox.localize import localize
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


def _title(brand: str, noun: str, attr: str, country: str, number: int | None = None) -> str:
    """A listing title in the marketplace's language: "Zentara Cork Yoga Mat (3)", "Zentara Yogamatte Kork (3)"."""
    tail = f" ({number})" if number is not None else ""
    if country == "DE":
        return f"{brand} {_DE_NOUNS.get(noun, noun.title())} {_DE_ATTRS.get(attr, attr)}{tail}"
    local_noun, local_attr = localize(noun, country), localize(attr, country)
    if local_noun == noun:  # an English-speaking marketplace (or words without a translation)
        return f"{brand} {attr.title()} {noun.title()}{tail}"
    return f"{brand} {local_noun[:1].upper()}{local_noun[1:]} {local_attr}{tail}"


def item_name(p, i: int, country: str) -> str:
    """The listing title in the marketplace's language (the world's titles are English)."""
    if country in ("US", "UK", "CA", "AU", "IN"):
        return p.p_title[i]
    _, nouns, attrs, brand = _theme(p, i)
    return _title(brand, nouns[0], attrs[i % len(attrs)], country, i + 1)


COMPETITOR_BRANDS = ("Veloria", "Nordvik", "Solvane", "Aurumline", "Tidewell", "Marlowe", "Brightfold", "Kestrel")
_ASIN_SHAPE = re.compile(r"^B0[A-Z0-9]{8}$")


def _digest(asin: str) -> int:
    return int(hashlib.sha256(("listing/" + asin).encode()).hexdigest()[:12], 16)


def competitor(p, asin: str) -> tuple[str, str, str, str] | None:
    """(category, noun, attribute, brand) of another seller's listing, or None for a malformed ASIN. Drawn from the
    ASIN (no random state) among the categories this seller sells in, so a yoga-mat seller's rivals sell mats."""
    if not _ASIN_SHAPE.match(asin):
        return None
    h = _digest(asin)
    themes = sorted({int(t) for t in p.p_theme})
    label, nouns, attrs, _ = cat.THEMES[themes[h % len(themes)]]
    return label, nouns[(h >> 8) % len(nouns)], attrs[(h >> 16) % len(attrs)], COMPETITOR_BRANDS[(h >> 24) % 8]


def image_link(base_url: str, asin: str) -> str:
    """The main image's address: on Amazon a media host; here the sandbox's own tiny drawing of the product."""
    return f"{base_url}/_images/{asin}.svg"


_COLORS = ("#E47911", "#146EB4", "#67A83D", "#B12704", "#6C3FB5", "#00838F", "#C2185B", "#5D4037")


def image(state: SandboxState, req: Request, m) -> Response:
    """A 64×64 SVG standing for a product photo: the brand's initial on a colour drawn from the ASIN."""
    asin = m.group(1).upper()
    if not _ASIN_SHAPE.match(asin):
        return Response(404, {"code": "NOT_FOUND", "message": "Resource not found", "details": "Resource not found"})
    color = _COLORS[_digest(asin) % len(_COLORS)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="8" fill="{color}"/>'
        '<text x="32" y="42" font-family="sans-serif" font-size="28" text-anchor="middle" fill="#fff">'
        f"{escape(asin[-2:])}</text></svg>"
    )
    return Response(200, svg, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


def _item(p, i: int | None, asin: str, marketplace_id: str, included: set[str], base_url: str) -> dict | None:
    """One catalogue item: the seller's own product `i`, or (i None) another seller's listing of `asin`."""
    country = MARKETPLACE_COUNTRY.get(marketplace_id, "US")
    if i is not None:
        label, _, _, brand = _theme(p, i)
        name = item_name(p, i, country)
    else:
        found = competitor(p, asin)
        if found is None:
            return None
        label, noun, attr, brand = found
        name = _title(brand, noun, attr, country)
    out: dict = {"asin": asin}
    if "summaries" in included:
        out["summaries"] = [
            {
                "marketplaceId": marketplace_id,
                "brand": brand,
                "itemName": name,
                "manufacturer": brand,
                "itemClassification": "BASE_PRODUCT",
                "websiteDisplayGroupName": label,
            }
        ]
    if "images" in included:
        out["images"] = [
            {
                "marketplaceId": marketplace_id,
                "images": [{"variant": "MAIN", "link": image_link(base_url, asin), "height": 500, "width": 500}],
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
            item = _item(p, p.asin_index.get(a), a, mkt, included, req.base_url)
            if item is not None:
                items.append(item)
    return Response(200, {"numberOfResults": len(items), "items": items})


def get_item(state: SandboxState, req: Request, m) -> Response:
    auth, mkt, included, err = _common(state, req)
    if err is not None:
        return err
    asin = m.group(1)
    p = _profile(state, auth["seller_id"], mkt)
    item = _item(p, p.asin_index.get(asin), asin, mkt, included, req.base_url) if p is not None else None
    if item is None:
        return spapi_error(404, "NotFound", f"Requested item '{asin}' not found in marketplace '{mkt}'.")
    return Response(200, item)
