"""Search terms and keywords in the marketplace's language, from the same latent world.

The world is generated in English (themes, heads, tails); a profile in a non-English marketplace renders every
query and keyword text through `localize` the moment it is created, so the DE profile's shoppers type
"yogamatte rutschfest für kinder" where the US profile's type "non slip yoga mat for kids" (and a FR, ES, IT or JP
profile "antidérapant tapis de yoga pour enfant", … "滑り止め ヨガマット 子供用"; tables in `sandbox.phrasebook`). The rendering is a pure
function of the English text (no random draws), so the world's numbers stay exactly as before: only the words change.
Words without an entry (brands, model numbers, ASINs, shopper-typed oddities) stay as typed.

Rendering is word by word (longest phrase first), not grammar: close enough for search terms, which are rarely
sentences. It is idempotent (a rendered text renders to itself), so a tail built on an already rendered head is safe.
"""

from __future__ import annotations

from functools import cache

from sandbox.phrasebook import ES, FR, IT, JP

# English phrase -> German, lower case (shoppers type lower case). Nouns of every theme, their attributes, and
# the prefixes, suffixes and irrelevant tails of `sandbox.catalog`.
_DE: dict[str, str] = {
    # nouns
    "yoga mat": "yogamatte", "exercise mat": "gymnastikmatte", "workout mat": "trainingsmatte",
    "water bottle": "trinkflasche", "sports bottle": "sportflasche", "drinking bottle": "wasserflasche",
    "garlic press": "knoblauchpresse", "garlic crusher": "knoblauchzerkleinerer", "garlic mincer": "knoblauchhacker",
    "phone case": "handyhülle", "iphone case": "iphone hülle", "protective case": "schutzhülle",
    "dog leash": "hundeleine", "dog lead": "führleine", "retractable leash": "rollleine",
    "coffee grinder": "kaffeemühle", "burr grinder": "mahlwerk mühle", "coffee mill": "kaffeemahler",
    "led strip lights": "led streifen", "led lights": "led lichter", "light strip": "lichtleiste",
    "resistance bands": "fitnessbänder", "exercise bands": "gymnastikbänder", "workout bands": "trainingsbänder",
    "cutting board": "schneidebrett", "chopping board": "hackbrett", "butcher block": "hackblock",
    "phone holder car": "handyhalterung auto", "car phone mount": "kfz handyhalter", "car mount": "autohalterung",
    "backpack": "rucksack", "laptop backpack": "laptop rucksack", "travel backpack": "reiserucksack",
    "scented candles": "duftkerzen", "candle": "kerze", "soy candle": "sojakerze",
    # attributes
    "thick": "dick", "non slip": "rutschfest", "extra large": "extra groß", "cork": "kork", "foldable": "faltbar",
    "travel": "reise", "eco": "öko", "cushioned": "gepolstert", "hot yoga": "hot-yoga", "purple": "lila",
    "black": "schwarz", "kids": "kinder", "wide": "breit", "long": "lang", "premium": "hochwertig",
    "lightweight": "leicht", "insulated": "isoliert", "stainless steel": "edelstahl", "1 liter": "1 l",
    "bpa free": "bpa-frei", "leak proof": "auslaufsicher", "straw lid": "strohhalmdeckel", "glass": "glas",
    "gym": "fitnessstudio", "motivational": "motivierend", "collapsible": "zusammenfaltbar", "vacuum": "vakuum",
    "large": "groß", "small": "klein", "pink": "rosa", "blue": "blau", "hiking": "wandern", "cold": "kalt",
    "hot": "heiß", "heavy duty": "robust", "easy clean": "leicht zu reinigen", "professional": "profi",
    "rocker": "wiegemesser", "dishwasher safe": "spülmaschinenfest", "ginger": "ingwer", "kitchen": "küche",
    "silver": "silber", "zinc": "zink", "ergonomic": "ergonomisch", "commercial": "gastro", "rust proof": "rostfrei",
    "best": "beste", "cheap": "günstig", "new": "neu", "german": "deutsch", "clear": "transparent",
    "shockproof": "stoßfest", "slim": "dünn", "leather": "leder", "wallet": "klapphülle", "rugged": "outdoor-robust",
    "silicone": "silikon", "cute": "süß", "glitter": "glitzer", "matte": "matt", "card holder": "kartenfach",
    "kickstand": "standfuß", "military grade": "militärstandard", "thin": "flach", "reflective": "reflektierend",
    "hands free": "freihändig", "rope": "seil", "small dog": "kleine hunde", "large dog": "große hunde",
    "padded handle": "gepolsterter griff", "training": "training", "double": "doppelt", "bungee": "ruckdämpfer",
    "puppy": "welpe", "chain": "kette", "running": "joggen", "waterproof": "wasserdicht", "durable": "langlebig",
    "red": "rot", "electric": "elektrisch", "manual": "manuell", "conical burr": "kegelmahlwerk",
    "adjustable": "verstellbar", "portable": "tragbar", "ceramic": "keramik", "stainless": "rostfreier stahl",
    "quiet": "leise", "hand crank": "handkurbel", "french press": "french-press", "pour over": "handfilter",
    "spice": "gewürz", "cordless": "akku", "fine": "fein", "coarse": "grob", "wooden": "hölzern",
    "music sync": "musiksync", "bedroom": "schlafzimmer", "tv backlight": "tv hintergrundbeleuchtung",
    "remote": "fernbedienung", "warm white": "warmweiß", "color changing": "farbwechsel", "outdoor": "außen",
    "app control": "app-steuerung", "dimmable": "dimmbar", "set": "set", "loop": "schlaufe", "fabric": "stoff",
    "heavy": "schwer", "with handles": "mit griffen", "pull up": "klimmzug", "booty": "po", "latex free": "latexfrei",
    "physical therapy": "physiotherapie", "women": "frauen", "men": "männer", "5 pack": "5er pack",
    "door anchor": "türanker", "strength": "kraft", "stretch": "dehnen", "tube": "schlauch", "home gym": "heimtraining",
    "bamboo": "bambus", "wood": "holz", "plastic": "kunststoff", "set of 3": "3er set", "juice groove": "saftrille",
    "acacia": "akazie", "teak": "teakholz", "charcuterie": "servierbrett", "end grain": "stirnholz", "walnut": "nussbaum",
    "flexible": "biegsam", "reversible": "wendbar", "organic": "bio", "magnetic": "magnetisch", "vent": "lüftung",
    "dashboard": "armaturenbrett", "windshield": "windschutzscheibe", "wireless charger": "kabelloses laden",
    "cup holder": "getränkehalter", "suction": "saugnapf", "universal": "universal", "truck": "lkw",
    "motorcycle": "motorrad", "bike": "fahrrad", "360 rotation": "360 grad drehbar", "one hand": "einhändig",
    "strong": "stark", "cd slot": "cd schlitz", "long arm": "langer arm", "sturdy": "stabil",
    "wireless": "kabellos", "anti theft": "diebstahlschutz", "usb charging": "usb ladeanschluss", "school": "schule",
    "carry on": "handgepäck", "rolling": "mit rollen", "business": "business", "college": "uni",
    "tactical": "taktisch", "canvas": "canvas", "gray": "grau", "lavender": "lavendel", "vanilla": "vanille",
    "jar": "im glas", "gift set": "geschenkset", "long lasting": "lange brenndauer", "aromatherapy": "aromatherapie",
    "3 wick": "3 dochte", "christmas": "weihnachten", "wood wick": "holzdocht", "natural": "natürlich",
    "relaxing": "entspannend", "bulk": "großpackung", "unscented": "duftfrei", "luxury": "luxus",
    "sandalwood": "sandelholz", "fall": "herbst",
    # prefixes
    "top rated": "testsieger", "amazon": "amazon", "buy": "kaufen", "good": "gut", "quality": "qualität",
    "big": "riesig", "mens": "herren", "womens": "damen", "gift": "geschenk", "affordable": "preiswert",
    "pro": "pro", "sale": "angebot",
    # suffixes
    "for women": "für damen", "for men": "für herren", "for kids": "für kinder", "for home": "für zuhause",
    "for gym": "fürs fitnessstudio", "for travel": "für unterwegs", "2 pack": "2er pack", "bundle": "paket",
    "with bag": "mit tasche", "on sale": "im angebot", "brand": "marke", "replacement": "ersatz",
    "accessories": "zubehör", "reviews": "bewertungen", "prime": "prime", "deal": "schnäppchen",
    "under 20": "unter 20 euro", "under 50": "unter 50 euro", "large size": "übergröße",
    "black friday": "black friday", "for beginners": "für anfänger", "for office": "fürs büro",
    # tails that never convert
    "diy": "selber machen", "pdf pattern": "schnittmuster pdf", "repair": "reparatur", "used": "gebraucht",
    "wholesale": "großhandel", "free": "kostenlos", "how to clean": "reinigen anleitung", "meaning": "bedeutung",
    "drawing": "zeichnung", "toy": "spielzeug", "rental": "mieten", "manual pdf": "bedienungsanleitung pdf",
    "job": "stellenangebot", "coloring page": "ausmalbild", "svg": "svg",
}  # fmt: skip

# keyed by the sandbox's country codes (sandbox.constants.MARKETS); English-speaking marketplaces have no table
LANGUAGES = {"DE": _DE, "FR": FR, "ES": ES, "IT": IT, "JP": JP}
_MAX_WORDS = 3


@cache
def _table(country: str) -> dict[tuple[str, ...], str]:
    return {tuple(k.split()): v for k, v in LANGUAGES.get(country, {}).items()}


def language_table(country: str) -> dict[str, str]:
    """The English -> local phrase table of a marketplace (empty for English-speaking ones)."""
    return dict(LANGUAGES.get(country, {}))


def localize(text: str, country: str) -> str:
    """`text` as a shopper in `country` would type it; unchanged for English marketplaces and unknown words.

    Phrases are matched on lower-cased whole words, longest first; words that match nothing keep their case and
    spelling, so hostile or odd shopper text (the tests' markup and formulas) passes through intact.
    """
    table = _table(country)
    if not table or not text:
        return text
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            local = table.get(tuple(w.lower() for w in words[i : i + n]))
            if local is not None:
                out.append(local)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)
