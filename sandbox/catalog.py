"""Text generation for the simulated seller: product themes, query vocabulary, names, hostile strings.

Everything here is plain data plus small helpers; randomness always comes from a caller's
numpy Generator so the world stays deterministic from its seed.
"""
from __future__ import annotations

import numpy as np

# (category label, nouns, attributes, brand)
THEMES: list[tuple[str, list[str], list[str], str]] = [
    ("Yoga Mats", ["yoga mat", "exercise mat", "workout mat"],
     ["thick", "non slip", "extra large", "cork", "tpe", "foldable", "travel", "eco", "cushioned", "pilates",
      "hot yoga", "6mm", "10mm", "purple", "black", "kids", "wide", "long", "premium", "lightweight"], "Zentara"),
    ("Water Bottles", ["water bottle", "sports bottle", "drinking bottle"],
     ["insulated", "stainless steel", "32 oz", "1 liter", "bpa free", "leak proof", "straw lid", "glass",
      "kids", "gym", "motivational", "collapsible", "vacuum", "large", "small", "pink", "blue", "hiking", "cold", "hot"], "Hydrova"),
    ("Garlic Presses", ["garlic press", "garlic crusher", "garlic mincer"],
     ["stainless steel", "heavy duty", "easy clean", "professional", "rocker", "dishwasher safe", "ginger",
      "kitchen", "silver", "black", "large", "zinc", "ergonomic", "commercial", "mini", "rust proof", "best", "cheap", "new", "german"], "Kochwerk"),
    ("Phone Cases", ["phone case", "iphone case", "protective case"],
     ["clear", "shockproof", "magsafe", "slim", "leather", "wallet", "rugged", "silicone", "cute", "glitter",
      "matte", "black", "pink", "iphone 15", "iphone 14", "pro max", "card holder", "kickstand", "military grade", "thin"], "Armorix"),
    ("Dog Leashes", ["dog leash", "dog lead", "retractable leash"],
     ["heavy duty", "reflective", "hands free", "rope", "leather", "small dog", "large dog", "padded handle",
      "6 ft", "training", "double", "bungee", "nylon", "puppy", "chain", "running", "waterproof", "durable", "red", "blue"], "Pawtrek"),
    ("Coffee Grinders", ["coffee grinder", "burr grinder", "coffee mill"],
     ["electric", "manual", "conical burr", "espresso", "adjustable", "portable", "ceramic", "stainless",
      "quiet", "hand crank", "french press", "pour over", "small", "commercial", "spice", "cordless", "fine", "coarse", "wooden", "usb"], "Brewmont"),
    ("LED Strip Lights", ["led strip lights", "led lights", "light strip"],
     ["rgb", "bluetooth", "music sync", "16ft", "32ft", "50ft", "bedroom", "tv backlight", "usb", "waterproof",
      "smart", "alexa", "remote", "warm white", "color changing", "outdoor", "gaming", "app control", "dimmable", "neon"], "Lumetra"),
    ("Resistance Bands", ["resistance bands", "exercise bands", "workout bands"],
     ["set", "loop", "fabric", "heavy", "with handles", "pull up", "booty", "long", "latex free", "physical therapy",
      "women", "men", "5 pack", "door anchor", "strength", "stretch", "mini", "tube", "home gym", "pilates"], "Flexora"),
    ("Cutting Boards", ["cutting board", "chopping board", "butcher block"],
     ["bamboo", "wood", "plastic", "large", "set of 3", "juice groove", "dishwasher safe", "acacia", "teak",
      "non slip", "thick", "charcuterie", "kitchen", "small", "end grain", "walnut", "flexible", "glass", "reversible", "organic"], "Kochwerk"),
    ("Car Phone Mounts", ["phone holder car", "car phone mount", "car mount"],
     ["magnetic", "vent", "dashboard", "windshield", "wireless charger", "cup holder", "suction", "universal",
      "truck", "motorcycle", "bike", "360 rotation", "one hand", "strong", "magsafe", "cd slot", "long arm", "sturdy", "adjustable", "mini"], "Drivio"),
    ("Backpacks", ["backpack", "laptop backpack", "travel backpack"],
     ["waterproof", "anti theft", "usb charging", "17 inch", "school", "hiking", "carry on", "women", "men",
      "lightweight", "large", "small", "rolling", "business", "college", "tactical", "kids", "canvas", "black", "gray"], "Trekko"),
    ("Scented Candles", ["scented candles", "candle", "soy candle"],
     ["lavender", "vanilla", "large", "jar", "gift set", "long lasting", "aromatherapy", "3 wick", "christmas",
      "wood wick", "natural", "relaxing", "bulk", "travel", "citronella", "unscented", "luxury", "sandalwood", "fall", "mini"], "Glowhaus"),
]

PREFIXES = ["best", "cheap", "top rated", "amazon", "buy", "new", "good", "quality", "premium", "small", "big",
            "mens", "womens", "kids", "gift", "affordable", "durable", "cute", "pro", "sale"]
SUFFIXES = ["for women", "for men", "for kids", "for home", "for gym", "for travel", "set", "2 pack", "bundle",
            "with bag", "on sale", "gift", "brand", "replacement", "accessories", "reviews", "prime", "deal",
            "under 20", "under 50", "large size", "black friday", "for beginners", "for office"]
# tails that look plausible but never convert (planted bleeding search terms)
IRRELEVANT = ["diy", "pdf pattern", "repair", "used", "wholesale", "free", "how to clean", "meaning",
              "drawing", "toy", "rental", "manual pdf", "job", "coloring page", "svg"]

HOSTILE_TERMS = [
    "=HYPERLINK(\"http://evil.example/x\",\"click\")",
    "=cmd|' /C calc'!A0 {noun}",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0 {noun}",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "<script>alert(1)</script> {noun}",
    "{noun} \"><img src=x onerror=alert(1)>",
    "{noun} 🧘‍♀️💪🔥",
    "حصيرة يوغا {noun}",
    "מזרן יוגה {noun}",
    "{noun} ' OR '1'='1",
    "{noun} " + " ".join(["extra long shopper typed query"] * 8),
]

HOSTILE_NAMES = [
    "=HYPERLINK(\"http://evil.example\",\"Campaign\")",
    "<script>alert(1)</script> Campaign",
    "+Summer | Sale | 🚀🔥",
    "حملة المنتجات الرئيسية – Main",
    "@Brand Defense \"quoted\" & <b>bold</b>",
]

ALNUM = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))


def asin(rng: np.random.Generator) -> str:
    return "B0" + "".join(rng.choice(ALNUM, 8))


def asins(rng: np.random.Generator, n: int) -> list[str]:
    chars = rng.choice(ALNUM, size=(n, 8))
    return ["B0" + "".join(r) for r in chars]


def typo(text: str, rng: np.random.Generator) -> str:
    """A close variant: swap two inner letters or drop one."""
    if len(text) < 5:
        return text + "s"
    i = int(rng.integers(1, len(text) - 2))
    if text[i] == " " or text[i + 1] == " ":
        return text.replace(" ", "", 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def plural(text: str) -> str:
    return text[:-1] if text.endswith("s") else text + "s"
