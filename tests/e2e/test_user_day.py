"""A new user's day in a real browser: Chromium drives the dashboard served by `streamlit run`.

open the app → explore the demo seller → sync with the progress bar → overview with its charts →
campaigns drill-down and a CSV opened → search-term n-grams → suggestions approved, applied and undone →
a coupon created in the form and its Seller Central file downloaded.

Every step leaves a screenshot in tests/e2e/screenshots/<test name>/NN-step.png, and asserts what a
person would see on the screen; any broken step fails the test with the step's name.
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.analytics.presentation import label as header_of
from tests.e2e.conftest import in_ci, wait_for_app_loaded, wait_for_app_run

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Page, expect
except ImportError:  # requirements-dev.txt installs it; CI must not hide its absence
    if in_ci():
        raise
    pytest.skip(
        "the playwright package is not installed (make install-dev installs requirements-dev.txt)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT = 180_000  # ms: the demo sync takes 30-90 s on a busy 2-core machine
ACTION_TIMEOUT = 60_000  # ms: one rerun that calls the sandbox (apply, undo, export)
FORMULA_START = ("=", "+", "@", "\t", "\r")
ASIN_RE = re.compile(r"^B0[0-9A-Z]{8}$")
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?%?$")
# the sync's progress in a marketer's words: "Downloads from Amazon: 12 of 96 ready · 48,210 rows saved (last: …)"
PROGRESS_RE = re.compile(
    r"^(Starting…|Downloads from Amazon: [\d,]+ of [\d,]+ ready · [\d,]+ rows saved \(last: [\w ]+\))$"
)


# ---------------------------------------------------------------- what a person looks at


def grid(page: Page, nth: int = 0):
    """The n-th st.dataframe: Glide's grid keeps an accessible <table role=grid> of the rows it draws."""
    return page.get_by_test_id("stDataFrame").nth(nth).locator("[role='grid']")


@dataclass
class Table:
    rows: int  # data rows (aria-rowcount counts the header row too)
    headers: list[str]
    cells: list[str]  # the cells drawn on screen, row by row


def table(page: Page, nth: int, until, what: str, timeout: float = 20.0) -> Table:
    """Read the n-th table as it is drawn, until `until(table)` holds: the grid draws after the script run ends."""
    deadline = time.monotonic() + timeout
    seen = None
    while True:
        g = grid(page, nth)
        try:
            if g.count():
                seen = Table(
                    int(g.get_attribute("aria-rowcount", timeout=2_000) or 1) - 1,
                    [t.strip() for t in g.locator("th").all_inner_texts()],
                    [t.strip() for t in g.locator("td").all_inner_texts()],
                )
                if until(seen):
                    return seen
        except PlaywrightError:  # redrawn while read: read again
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"table {nth}: expected {what}; saw {seen}")
        page.wait_for_timeout(250)


def no_exception(page: Page) -> None:
    """A page never shows the user a Python traceback, nor an object's docstring written by Streamlit's
    "magic" (a bare expression statement such as `st.success(..) if ok else st.error(..)` renders st.help)."""
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stHelp")).to_have_count(0)


def go_to(page: Page, title: str) -> None:
    """Click the page in the sidebar navigation, as a person would."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_app_run(page)
    no_exception(page)


def click(page: Page, name: str, timeout: float = ACTION_TIMEOUT, exact: bool = False) -> None:
    page.get_by_role("button", name=name, exact=exact).click()
    wait_for_app_run(page, timeout=timeout)
    no_exception(page)


def choose_option(page: Page, label: str, option: str | int) -> str:
    """Open the selectbox labelled `label` and pick an option (by text, or by position); returns its text."""
    box = page.get_by_role("combobox", name=label, exact=True)
    options = page.get_by_role("option")
    for _ in range(3):  # a click landing during a redraw only focuses the box; open it again
        box.click()
        try:
            expect(options.first).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    chosen = options.nth(option) if isinstance(option, int) else options.filter(has_text=option).first
    text = chosen.inner_text().strip()
    chosen.click()
    wait_for_app_run(page)
    expect(box).to_have_value(text)
    return text


def pick_radio(page: Page, label: str, choice: str) -> None:
    page.get_by_test_id("stRadio").filter(has=page.get_by_text(label, exact=True)).get_by_text(
        choice, exact=True
    ).click()
    wait_for_app_run(page)


def download(page: Page, button, folder: Path) -> tuple[str, bytes]:
    """Click a download button and return the file's suggested name and bytes (saved beside the screenshots)."""
    with page.expect_download(timeout=ACTION_TIMEOUT) as info:
        button.click()
    d = info.value
    assert d.failure() is None, d.failure()
    target = folder / d.suggested_filename
    d.save_as(target)
    return d.suggested_filename, target.read_bytes()


def open_safe_csv(body: bytes) -> list[list[str]]:
    """Open a downloaded CSV as a spreadsheet would, and check it is safe to open there."""
    assert body.startswith(b"\xef\xbb\xbf"), "CSV exports start with a UTF-8 BOM (Excel reads accents right)"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) >= 2, rows
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"formula-looking cell not neutralised: {cell!r}"
            assert not cell.startswith("-") or NUMBER_RE.match(cell), f"formula-looking cell not neutralised: {cell!r}"
    return rows


def expect_drawn(chart) -> None:
    """plotly.js has drawn the figure: its SVG, and bars or line paths in the plot area."""
    expect(chart.locator(".js-plotly-plot")).to_be_visible()
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    marks = chart.locator(".cartesianlayer .trace.bars .point path, .cartesianlayer .trace.scatter path.js-line")
    expect(marks.first).to_be_attached()
    assert marks.count() > 1, "the chart draws its bars and lines"


def scroll_to(locator) -> None:
    locator.scroll_into_view_if_needed()


def no_truncated_tiles(page: Page) -> None:
    """Every KPI tile shows its whole value: no text wider than its box (an ellipsis would hide it)."""
    cut = page.get_by_test_id("stMetricValue").evaluate_all(
        """els => els.filter(e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))
                  .map(e => e.innerText)"""
    )
    assert not cut, f"tile values cut off: {cut}"


def no_raw_headers(page: Page, where: str) -> None:
    """No visible table header is a field name (the registry's names, e.g. `campaign_name`, `cvr_shrunk`)."""
    from services.analytics.presentation import raw_names

    grids = page.get_by_test_id("stDataFrame").locator("[role='grid']")
    expect(grids.first).to_be_attached()
    headers = {h.strip() for h in grids.locator("th").all_inner_texts()}
    leaked = headers & raw_names()
    assert not leaked, f"{where}: field names as table headers: {sorted(leaked)}"


def click_row(page: Page, nth_table: int, row: int) -> None:
    """Click a data row of a selectable table, as a person does (row 0 is the first row under the header)."""
    box = page.get_by_test_id("stDataFrame").nth(nth_table).bounding_box()
    assert box, "the table is on screen"
    page.mouse.click(box["x"] + 18, box["y"] + 35 * (row + 1) + 17)
    wait_for_app_run(page)
    no_exception(page)


# ---------------------------------------------------------------- the walk


def test_new_user_day(page: Page, app_server, shots):
    """The whole walk in one browser session; a failure names the step it broke in."""
    started, where = time.monotonic(), {"step": "start"}

    def step(name: str) -> None:
        where["step"] = name

    try:
        walk(page, app_server.url, shots, step)
    except BaseException as exc:
        exc.add_note(f"the user's day broke at step: {where['step']} (screenshots in {shots.folder})")
        raise
    print(f"\nthe walk took {time.monotonic() - started:.0f}s; screenshots in {shots.folder}")


def walk(page: Page, url: str, shots, step) -> None:

    # 1. open the app: the Connect page greets a new user
    step("1. open the app")
    page.goto(url)
    wait_for_app_loaded(page)
    expect(page.get_by_role("heading", name="Connect your Amazon Ads account")).to_be_visible()
    expect(page.get_by_role("button", name="Explore the demo seller")).to_be_enabled()
    shots(page, "connect")

    # 2. explore the demo seller: its advertising profiles are listed
    step("2. explore the demo seller")
    click(page, "Explore the demo seller")
    expect(page.get_by_role("heading", name="Advertising profiles")).to_be_visible()
    profiles = table(
        page,
        0,
        lambda t: t.rows == 3 and {"US", "DE", "UK", "Demo Seller"} <= set(t.cells),
        "three profiles (US, DE, UK) of the Demo Seller",
    )
    assert {"profile_id", "country_code", "currency_code"} <= set(profiles.headers), profiles.headers
    scroll_to(page.get_by_role("heading", name="Advertising profiles"))
    shots(page, "demo-profiles")

    # 3. sync: the US profile only (the one the sidebar opens on); the progress bar moves, then Overview opens
    step("3. sync")
    sync_box = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text("Profiles to sync", exact=True))
    for other in ("DE", "UK"):
        sync_box.get_by_role("button", name=re.compile(rf"^Remove {other} \(")).click()
        wait_for_app_run(page)
    expect(sync_box.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(1)
    page.get_by_role("button", name="Sync now").click()
    bar = page.get_by_test_id("stProgress")
    expect(bar).to_be_visible(timeout=30_000)
    expect(page.get_by_text(PROGRESS_RE)).to_be_visible()
    shots(page, "sync-progress")
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible(timeout=SYNC_TIMEOUT)
    wait_for_app_run(page, timeout=SYNC_TIMEOUT)

    # 4. overview: twelve ad tiles, six of total sales and traffic, none cut off, and the trend chart drawn
    step("4. overview")
    tiles = page.get_by_test_id("stMetric")
    expect(tiles).to_have_count(18)
    for label in ("Spend", "Sales", "ACOS", "ROAS", "Orders", "TACoS"):
        expect(tiles.filter(has_text=label).first).to_be_visible()
    no_truncated_tiles(page)
    chart = page.get_by_test_id("stPlotlyChart").first
    expect_drawn(chart)
    shots(page, "overview")
    scroll_to(chart)
    shots(page, "overview-trend")
    for label in ("Download the daily trend (CSV)", "Download the biggest movers (CSV)"):
        expect(page.get_by_role("button", name=label)).to_be_visible()
    no_raw_headers(page, "Overview")
    scroll_to(page.get_by_role("heading", name="Biggest movers"))
    shots(page, "overview-movers")

    # 5. campaigns: spend, sales and ACOS first, a row click down to ad groups and targets, placements, the CSV
    step("5. campaigns")
    go_to(page, "Campaigns")
    expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    campaigns = table(
        page,
        0,
        lambda t: t.rows >= 3 and [h for h in t.headers if h][:5] == ["Campaign", "Spend", "Sales", "ACOS", "Orders"],
        "the campaigns",
    )
    assert any(c.startswith("Total · ") for c in campaigns.cells), "the totals row"
    assert not {"LEGACY_FOR_SALES", "AUTO_FOR_SALES", "MANUAL", "None"} & set(campaigns.cells), campaigns.cells[:40]
    n_campaigns = campaigns.rows - 1  # the totals row is not a campaign
    no_raw_headers(page, "Campaigns")
    shots(page, "campaigns")
    click_row(page, 0, 1)  # the biggest campaign (row 0 is the total)
    table(page, 1, lambda t: t.rows >= 2 and "Ad group" in t.headers, "the clicked campaign's ad groups")
    click_row(page, 1, 1)
    table(page, 2, lambda t: t.rows >= 2 and {"Targeting", "Match type"} <= set(t.headers), "the ad group's targets")
    expect_drawn(page.get_by_test_id("stPlotlyChart").first)
    no_raw_headers(page, "Campaigns drill-down")
    scroll_to(page.get_by_role("heading", name=re.compile(r"^Ad groups of ")))
    shots(page, "campaigns-drill-down")

    name, body = download(page, page.get_by_role("button", name="Download these campaigns (CSV)"), shots.folder)
    assert name.startswith("campaigns_") and name.endswith(".csv"), name
    rows = open_safe_csv(body)
    header = rows[0]
    assert header[:5] == ["Campaign", "Spend", "Sales", "ACOS", "Orders"] and "Campaign ID" in header, header
    assert len(rows) - 1 == n_campaigns, (len(rows) - 1, n_campaigns)
    names = [r[header.index("Campaign")] for r in rows[1:]]
    assert any(n.startswith("'=") for n in names), f"the demo's hostile campaign name is neutralised: {names}"
    assert all(re.fullmatch(r"-?\d+\.\d{2}", r[header.index("Spend")]) for r in rows[1:]), "money with 2 decimals"
    assert all(re.fullmatch(r"(-?\d+\.\d{2}%)?", r[header.index("ACOS")]) for r in rows[1:]), "ACOS as a percentage"
    assert all(re.fullmatch(r"\d{6,}", r[header.index("Campaign ID")]) for r in rows[1:]), "ids keep their digits"

    # 6. search terms: the n-gram view, 2-word fragments, and its CSV
    step("6. search terms")
    go_to(page, "Search terms")
    expect(page.get_by_role("heading", name="Search terms", exact=True)).to_be_visible()
    table(
        page,
        0,
        lambda t: (
            t.rows > 10 and {"Search term", "Product (searched ASIN)", "Product (targeted ASIN)"} <= set(t.headers)
        ),
        "the search terms, with the names of the ASINs typed or targeted",
    )
    pick_radio(page, "View", "N-grams")
    pick_radio(page, "Fragment length", "2-word")
    table(
        page,
        0,
        lambda t: (
            t.headers[:2] == ["N-gram", "Search terms"]
            and t.rows > 0
            and any(re.fullmatch(r"[^\d\s]\S* \S+", c) for c in t.cells)
        ),
        "2-word n-grams",
    )
    shots(page, "search-terms-ngrams")
    name, body = download(page, page.get_by_role("button", name="Download CSV"), shots.folder)
    assert name.startswith("n-grams_"), name
    rows = open_safe_csv(body)
    gram = header_of("ngram")  # the CSV carries the page's headers (the presentation registry)
    assert gram in rows[0] and all(len(r[rows[0].index(gram)].split()) == 2 for r in rows[1:]), rows[:3]

    # 7. suggestions: refresh, keep bid changes, approve them, apply after confirming, then undo
    step("7. suggestions")
    go_to(page, "Suggestions")
    expect(page.get_by_role("heading", name="Suggested changes")).to_be_visible()
    click(page, "Refresh suggestions from the latest data")
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="ready for review")).to_be_visible()
    types = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text("Type", exact=True))
    types.locator("input").click()
    page.get_by_role("option", name="Bid changes").click()
    page.keyboard.press("Escape")
    wait_for_app_run(page)
    table(
        page,
        0,
        lambda t: (
            t.rows > 0
            and "Bid changes" in t.cells
            and not {"Negative keywords", "New exact keywords", "Budgets"} & set(t.cells)
        ),
        "bid-change suggestions to review",
    )
    # the count comes from the page's own summary, which names only bid changes once the filter has run (the grid
    # draws only the rows in view, so its first rows can look filtered before the rerun has finished)
    summary = page.get_by_text(re.compile(r"^Bid changes: \d+$"))
    expect(summary).to_be_visible(timeout=ACTION_TIMEOUT)
    shown = int(re.search(r"\d+", summary.inner_text()).group())
    shots(page, "suggestions")
    # the detail panel of the first bid change: its keyword's or target's last 30 days as a small chart
    recent = page.get_by_text(re.compile(r"last 30 synced days"))
    expect(recent).to_be_visible(timeout=ACTION_TIMEOUT)
    scroll_to(recent)
    expect_drawn(page.get_by_test_id("stPlotlyChart").last)
    shots(page, "suggestion-detail-30-days")
    click(page, f"Approve (all {shown} shown)")
    expect(page.get_by_text(f"{shown} approved change(s) waiting.")).to_be_visible()

    step("7b. apply the approved changes")
    click(page, "Apply approved changes to Amazon…")
    expect(
        page.get_by_test_id("stAlertContentWarning").filter(has_text=f"Send {shown} change(s) to Amazon now?")
    ).to_be_visible()
    shots(page, "suggestions-confirm-apply")
    click(page, "Yes, send to Amazon")
    accepted = page.get_by_test_id("stAlertContentSuccess").filter(
        has_text=f"Amazon accepted {shown} of {shown} change(s)."
    )
    expect(accepted).to_be_visible()
    scroll_to(accepted)
    shots(page, "suggestions-applied")

    table(
        page,
        page.get_by_test_id("stDataFrame").count() - 1,
        lambda t: t.rows == shown and any(h.startswith("Undone (") for h in t.headers),
        f"the change history with the {shown} applied change(s)",
    )
    step("7c. undo the last apply")
    click(page, f"Undo the last apply ({shown} change(s))…")
    expect(page.get_by_test_id("stAlertContentWarning").filter(has_text="Put these values back")).to_be_visible()
    click(page, "Yes, undo on Amazon")
    expect(page.get_by_role("button", name="Undo the last apply (0 change(s))…")).to_be_disabled()
    # the banner says what the undo did (issue 14: it used to repeat "Amazon accepted ...")
    expect(
        page.get_by_test_id("stAlertContentSuccess").filter(
            has_text=f"Undone on Amazon: {shown} of {shown} change(s) put back to their earlier values."
        )
    ).to_be_visible()
    heading = page.get_by_role("heading", name="Change history")
    scroll_to(heading)
    shots(page, "suggestions-undone")
    # the history's own CSV: every applied change is now marked undone, and the undo itself is listed
    name, body = download(page, page.get_by_role("button", name="Download the change history (CSV)"), shots.folder)
    assert name.startswith("change-history_"), name
    rows = open_safe_csv(body)
    header, records = rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]
    assert {"Applied", "Old value", "New value", "Accepted", "Undone"} <= set(header), header
    assert len(records) == 2 * shown, (len(records), shown)
    undone = [r for r in records if r["Undone"]]
    assert len(undone) == shown, f"{len(undone)} of {shown} applied changes marked undone"

    # 8. a coupon: two of the seller's ASINs from the Products page, the create form, the export, the file
    step("8. a coupon")
    # the main images come from the sandbox on this machine (GET /_images/<asin>.svg), drawn in the grid
    with page.expect_request(re.compile(r"^http://127\.0\.0\.1:\d+/_images/B0[0-9A-Z]{8}\.svg$")) as picture:
        go_to(page, "Products")
        expect(page.get_by_role("heading", name="Advertised products")).to_be_visible()
        products = table(
            page, 0, lambda t: sum(map(bool, map(ASIN_RE.match, t.cells))) >= 2, "the seller's advertised ASINs"
        )
    assert picture.value.response().status == 200
    asins = [c for c in products.cells if ASIN_RE.match(c)][:2]
    assert [h for h in products.headers if h][:4] == ["Image", "Product", "Brand", "ASIN"], products.headers
    no_raw_headers(page, "Products")
    shots(page, "products")
    step("8b. the coupon form")
    go_to(page, "Promotions")
    perf = table(page, 0, lambda t: t.rows >= 1 and "Budget used" in t.headers, "the promotions")
    assert "Coupon" in perf.cells and "coupon" not in perf.cells, perf.cells[:30]
    no_raw_headers(page, "Promotions")
    shots(page, "promotions")
    page.get_by_role("tab", name="Suggested changes").click()
    page.wait_for_timeout(500)
    shots(page, "promotions-suggestions")
    page.get_by_role("tab", name="Create a promotion").click()
    form = page.get_by_test_id("stForm")
    form.get_by_label("ASINs (separated by ; or new lines)").fill("; ".join(asins))
    form.get_by_label("Percent off").fill("15")
    form.get_by_label("Title suffix (after Amazon's 'Save X% on')").fill("garden tools from the browser")
    form.get_by_label(re.compile(r"^Budget \(")).fill("1500")
    shots(page, "coupon-form")
    click(page, "Check and save draft")
    # the check saves the draft and reruns the page: on a busy machine that second run starts after click() returned
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Amazon's rules are met")).to_be_visible(
        timeout=ACTION_TIMEOUT
    )
    step("8c. export and download the Seller Central file")
    click(page, "Export 1 coupon draft(s)")
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    file_button = page.get_by_role("button", name="Download the Seller Central file")
    expect(file_button).to_be_visible(timeout=ACTION_TIMEOUT)
    scroll_to(file_button)
    shots(page, "coupon-exported")
    name, body = download(page, file_button, shots.folder)
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("ASIN list,Discount type,% off value,Money-off value,"), lines[0]
    coupon = dict(zip(next(csv.reader([lines[0]])), next(csv.reader([lines[1]]))))
    assert set(coupon["ASIN list"].split(";")) == set(asins), coupon
    assert "garden tools from the browser" in coupon["Title suffix"], coupon
