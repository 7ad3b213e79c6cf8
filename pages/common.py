"""What every page shares: the store, the sidebar controls and the only `st.cache_*` wrappers.

Cached data is keyed by account id and profile id (and the sync run that produced
it), so two accounts never share an entry; no token or secret is ever an argument
or a value of a cached function.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date

import streamlit as st

from services import analytics, connect
from services.accounts import grants
from services.analytics.periods import COMPARISONS, RANGE_CHOICES, Period, comparison_period, resolve_range
from services.analytics.text import escape_markdown
from services.errors import DashboardError

ACCOUNT_KEY = "account_id"  # session_state holds ids only, never a token
NOBODY = grants.Person(user="")  # with a login configured, before signing in: no right at all


def login_configured() -> bool:
    """True when an OpenID Connect login is set up (`[auth]` in .streamlit/secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all: no login
        return False


def secret_keys() -> str | None:
    """Fernet keys from .streamlit/secrets.toml, if the operator put them there."""
    try:
        return st.secrets.get("DASHBOARD_SECRET_KEYS")  # type: ignore[no-any-return]
    except Exception:  # no secrets.toml: the environment or a key file is used instead
        return None


@st.cache_resource
def _vault(path: str, keys_fingerprint: str):
    """Keyed by a fingerprint of the keys and of the key file (inode, size, mtime), never the keys themselves
    (cache keys must not hold secrets): a rotation replaces the key file, so the running app reloads its vault."""
    return connect.make_vault(connect.Path(path), _configured_keys())


def _configured_keys() -> str | None:
    return secret_keys() or os.environ.get("DASHBOARD_SECRET_KEYS")


def store():
    """A connection for this script run (SQLite connections are not shared between sessions), bound to the person
    using this session: the services refuse what that person may not do (`grants.require`)."""
    return grants.bind(connect.open_store(connect.db_path()), person())


def person() -> grants.Person:
    """Who uses this session. Without a login (loopback, one local user): every right, as before. With one: the
    signed-in person and their grants from the store, or nobody before signing in. Never kept in session_state:
    read afresh each run, so a revoked grant takes effect on the next click."""
    if not login_configured():
        return grants.LOCAL_USER
    if not st.user.is_logged_in:
        return NOBODY
    key = grants.user_key(dict(st.user))
    if not key:
        return NOBODY
    return grants.person_for(connect.open_store(connect.db_path()), key)


def can_change(account_id: str | None = None) -> bool:
    """May this session approve, apply, undo and sync the account (default: the current one)? For showing buttons;
    the services check again."""
    return person().can_change(account_id or current_account())


def login_view() -> None:
    """The only page before signing in: nothing about any account, just the way in."""
    st.title("Amazon Ads dashboard")
    st.write("Sign in to see the accounts you were given access to.")
    if st.button("Log in", key="login", type="primary"):
        st.login()


def no_access_view() -> None:
    """Signed in, but granted nothing: one sentence and no account name, no data."""
    st.info(grants.NO_ACCESS)


def signed_in_menu(me: grants.Person) -> None:
    """Who is signed in, and the way out (sidebar)."""
    st.sidebar.caption(f"Signed in as {md(me.user)}" + (" · admin" if me.admin else ""))
    st.sidebar.button("Log out", key="logout", on_click=st.logout)


def vault():
    """The store's vault; a missing key file beside encrypted secrets stops the page with the sentence that says so."""
    path = connect.db_path()
    try:
        return _vault(str(path), connect.vault_fingerprint(path, _configured_keys()))
    except connect.VaultError as exc:
        st.error(str(exc))
        st.stop()


def current_account() -> str | None:
    """The session's account, if this person may see it. A signed-in person lands on their first account; the local
    user (no login) chooses on the Connect page, as before."""
    account_id = st.session_state.get(ACCOUNT_KEY)
    me = person()
    if account_id and not me.can_view(account_id):
        st.session_state.pop(ACCOUNT_KEY, None)
        account_id = None
    if account_id is None and not me.local:
        visible = connect.list_accounts(store())["account_id"].tolist()
        if visible:
            account_id = st.session_state[ACCOUNT_KEY] = visible[0]
    return account_id


def data_version(account_id: str) -> str:
    """Changes whenever a sync finishes, so cached frames never outlive the data they came from."""
    info = analytics.last_sync(store(), account_id)
    return f"{info['finished_at']}|{info['status']}" if info else "never"


@dataclass(frozen=True)
class Controls:
    account_id: str
    profile_id: str
    currency: str
    timezone: str
    period: Period
    comparison: Period | None
    window: int
    first_date: date | None
    last_date: date | None

    def query(self) -> analytics.Query:
        return analytics.Query(self.profile_id, self.period.start, self.period.end, self.window)

    def version(self) -> str:
        return data_version(self.account_id)


def sidebar() -> Controls | None:
    """Profile, date range, comparison and attribution window, kept across pages (widgets live in app.py's run)."""
    account_id = current_account()
    if not account_id:
        return None
    db = store()
    account_id = _account_switcher(db, account_id)
    if account_id is None:
        return None
    reconcile_interrupted_changes(db, account_id)
    profiles = connect.stored_profiles(db, account_id)
    if profiles.empty:
        st.sidebar.info("No profiles yet: sync the account on the Connect page.")
        return None
    labels = {r.profile_id: f"{r.country_code} · {r.account_name} ({r.profile_id})" for r in profiles.itertuples()}
    profile_id = st.sidebar.selectbox("Profile", list(labels), format_func=lambda p: labels.get(p, p), key="profile_id")
    info = analytics.profile_info(db, profile_id)
    first, last = info.get("first_date"), info.get("last_date")
    st.sidebar.caption(f"Currency {md(info.get('currency_code', ''))} · time zone {md(info.get('timezone', ''))}")
    if last is None:
        st.sidebar.warning("This profile has no report data yet: sync it on the Connect page.")
        return None
    choice = st.sidebar.selectbox("Date range", RANGE_CHOICES, index=2, key="range_choice")
    custom = None
    if choice == "Custom":
        picked = st.sidebar.date_input(
            "Custom range",
            value=(max(first, last.replace(day=1)), last),
            min_value=first,
            max_value=last,
            key="custom_range",
        )
        if isinstance(picked, (list, tuple)) and len(picked) == 2:
            custom = (picked[0], picked[1])
        else:
            st.sidebar.info("Pick an end date too.")
            return None
    try:
        period = resolve_range(choice, last, custom)
    except ValueError as exc:
        st.sidebar.error(str(exc))
        return None
    cmp_choice = st.sidebar.selectbox("Compare with", COMPARISONS, key="comparison_choice")
    comparison = comparison_period(period, cmp_choice, earliest=first)
    if cmp_choice == "Same period last year" and comparison is None:
        st.sidebar.caption("No data a year back: no comparison shown.")
    window = st.sidebar.radio(
        "Attribution window", (7, 14), format_func=lambda w: f"{w} days", horizontal=True, key="window"
    )
    sync = analytics.last_sync(db, account_id)
    when = (sync or {}).get("finished_at") or "never"
    st.sidebar.caption(f"Data through {last:%d %b %Y} · last sync {when[:16].replace('T', ' ')}")
    return Controls(
        account_id,
        profile_id,
        info.get("currency_code") or "USD",
        info.get("timezone") or "",
        period,
        comparison,
        int(window),
        first,
        last,
    )


def _switch_account() -> None:
    st.session_state[ACCOUNT_KEY] = st.session_state["sidebar_account"]
    st.session_state.pop("profile_id", None)  # another account's profiles: pick afresh


def _account_switcher(db, account_id: str) -> str | None:
    """One click between connected sellers, and the authorization's days left (warnings at 30 and 7)."""
    accounts = connect.list_accounts(db)
    names = dict(zip(accounts["account_id"], accounts["name"]))
    if account_id not in names:  # removed meanwhile
        st.session_state.pop(ACCOUNT_KEY, None)
        return None
    if len(names) > 1:
        st.session_state["sidebar_account"] = account_id
        st.sidebar.selectbox(
            "Account", list(names), format_func=names.get, key="sidebar_account", on_change=_switch_account
        )
    life = connect.token_status(db, account_id)
    if life.level in ("ok", "unknown"):
        st.sidebar.caption(md(life.message))
    else:
        (st.sidebar.warning if life.level == "warn" else st.sidebar.error)(md(life.message))
        st.sidebar.page_link(page_path("connect.py"), label="Reconnect on the Connect page", icon="🔁")
    return account_id


def reconcile_interrupted_changes(db, account_id: str) -> None:
    """Once per session and account: settle changes an interrupted apply left unrecorded (read back from Amazon).

    Cheap when nothing is pending (one indexed lookup); never takes the page down.
    """
    flag = f"_reconciled_{account_id}"
    if st.session_state.get(flag):
        return
    from services.optimizer import reconcile_account

    try:
        report = reconcile_account(db, vault(), account_id)
    except Exception:  # details go to the server log; the next session tries again
        logging.getLogger(__name__).exception("reconciling interrupted changes failed")
        return
    if report.unresolved:
        st.sidebar.warning(
            f"{report.unresolved} change(s) from an interrupted apply could not be checked on Amazon yet; "
            "the dashboard checks again before the next apply."
        )
        return
    st.session_state[flag] = True
    if report.applied or report.not_applied:
        st.sidebar.info(
            f"An earlier apply was interrupted. Checked on Amazon: {report.applied} change(s) had been made "
            f"and are now in the change history, {report.not_applied} had not been made."
        )


def open_demo_seller() -> None:
    """Select the demo seller for this session, connecting it first when the store has no account yet."""
    db = store()
    try:
        existing = connect.list_accounts(db)
        demo = existing[existing["backend"] == "sandbox"]
        if not existing.empty and demo.empty:
            return  # a real account is connected: the user chooses on the Connect page
        account_id = connect.connect_demo_seller(db, vault())
        if connect.stored_profiles(db, account_id).empty:
            connect.refresh_profiles(db, vault(), account_id)
        st.session_state[ACCOUNT_KEY] = account_id
    except DashboardError as exc:
        show_error(exc)


def md(value: object) -> str:
    """A data string (a name from Amazon or typed by someone) for st.write/markdown/success/...: shown as written,
    never as a link, an image, HTML or emphasis."""
    return escape_markdown(value)


def show_error(exc: Exception) -> None:
    """A sentence for the marketer; details stay in the server log."""
    if isinstance(exc, DashboardError):
        st.error(md(str(exc)))
    else:
        st.error("Something went wrong while preparing this page. Nothing was changed; please try again.")


# ------------------------------------------------------------------ cached reads (keyed by account and profile)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def overview(account_id: str, q: analytics.Query, comparison: Period | None, version: str):
    return analytics.overview(store(), q, comparison)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def campaigns(account_id: str, q: analytics.Query, version: str):
    return analytics.campaigns_table(store(), q)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def ad_groups(account_id: str, q: analytics.Query, campaign_id: str, version: str):
    return analytics.ad_groups_table(store(), q, campaign_id)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def targets(account_id: str, q: analytics.Query, ad_group_id: str, version: str):
    return analytics.targets_table(store(), q, ad_group_id)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def placements(account_id: str, q: analytics.Query, campaign_id: str | None, version: str):
    return analytics.placements_table(store(), q, campaign_id)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def term_page(account_id: str, q: analytics.Query, f, page: int, version: str):
    """One page of search terms and the totals of what the filters match (keyed by the filters and the page)."""
    from services.analytics import search_terms

    return search_terms.term_page(store(), q, f, page)


@st.cache_data(ttl="15m", max_entries=128, show_spinner=False)
def waste_summary(account_id: str, q: analytics.Query, floor: int, expected_orders: float, version: str):
    from services.analytics import search_terms

    f = search_terms.TermFilter(waste_floor=floor, waste_expected_orders=expected_orders)
    return search_terms.waste_summary(store(), q, f)


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def campaign_choices(account_id: str, q: analytics.Query, version: str):
    from services.analytics import search_terms

    return search_terms.campaign_choices(store(), q)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def ngrams(account_id: str, q: analytics.Query, f, n: int, version: str):
    """The top n-grams of the filtered search terms and how many there are in all."""
    from services.analytics import search_terms

    return search_terms.ngram_page(store(), q, f, n)


@st.cache_data(ttl="15m", max_entries=128, show_spinner=False)
def products(account_id: str, q: analytics.Query, version: str):
    return analytics.products_table(store(), q), analytics.halo_table(store(), q)


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def promotions_overview(account_id: str, profile_id: str, version: str):
    """The Promotions page's table and timeline: (overview, timeline promotions, daily ad sales). They read only
    synced data (coupons, deals, campaign days), so they hold until the next sync changes `version`; without the
    cache every widget click on the page built the overview twice (the timeline builds its own)."""
    from services import promotions

    db = store()
    promos, sales = promotions.timeline_frames(db, profile_id)
    return promotions.promotions_overview(db, profile_id), promos, sales


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def coupon_detail(account_id: str, profile_id: str, coupon_id: str, asins: tuple[str, ...], start, end, version: str):
    """One coupon's daily snapshots and the ad performance of its ASINs before and during it (synced data only)."""
    from services import promotions
    from services.analytics.sales import product_names
    from services.promotions.performance import promoted_asin_rows

    db = store()
    history = promotions.coupon_history(db, coupon_id)
    perf = promotions.promoted_asin_performance(db, profile_id, list(asins), start, end)
    rows = None if perf.empty else promoted_asin_rows(perf, product_names(db, profile_id))
    return history, rows


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def promotion_suggestions(account_id: str, profile_id: str, version: str):
    """The Promotions page's suggested changes: `suggest` reads only synced data (coupons, deals, ad reports; its
    "today" is the store's), so the result holds until the next sync changes `version`; without the cache every
    rerun (any widget on the page) ran ~100 small queries and one-row frames again."""
    from services.promotions.suggestions import suggest

    return suggest(store(), profile_id)


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def suggestion_list(account_id: str, profile_id: str, f, currency: str, version: str):
    """One page of the Suggestions work list (issue 15: the page must not read ~20k suggestions per rerun).

    Keyed by account, profile, the filter (a frozen `ListFilter`) and `version` = the sync's data version plus the
    suggestions' own version (`worklist.list_version`), so an approve, apply, undo or new generation, here or in
    another process, is a new entry; `forget_suggestions()` also drops the entries at once after this page acts."""
    from services.optimizer import detail, worklist

    db = store()
    wl = worklist.work_list(db, account_id, profile_id, f)
    from services.analytics.presentation import enum_label

    rows = detail.with_products(db, profile_id, wl.rows)
    rows["keyword_text"] = rows["keyword_text"].map(lambda v: enum_label("match_type", v))  # auto targets by name
    rows.insert(rows.columns.get_loc("type_label") + 1, "change", detail.change_texts(rows, currency))
    campaigns = worklist.campaign_counts(db, account_id, profile_id, f)
    return worklist.WorkList(rows, wl.total, wl.by_type, wl.page, wl.pages), campaigns


def suggestions_version(account_id: str, profile_id: str) -> str:
    from services.optimizer import worklist

    return f"{data_version(account_id)}#{worklist.list_version(store(), account_id, profile_id)}"


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def change_impacts(account_id: str, profile_id: str, attribution: str, version: str):
    """Each applied change's measured effect (a few queries per change): computed once per account, profile,
    attribution window and version (`impacts_version`: a sync or an apply/undo), not on every rerun."""
    from services.optimizer.impact import measure_impacts

    return measure_impacts(store(), account_id, profile_id, attribution=attribution)


def impacts_version(account_id: str, profile_id: str) -> str:
    from services.optimizer.impact import history_version

    return f"{data_version(account_id)}#{history_version(store(), account_id, profile_id)}"


def forget_suggestions() -> None:
    """After approve / reject / snooze / apply / undo / refresh: the cached work lists are stale."""
    suggestion_list.clear()


def download(df, table: str, c: Controls, key: str, label: str | None = None) -> None:
    """Every table shown gets a CSV through the one safe writer; the file name carries profile and range.

    The file carries the page's headers and formats (`presentation.export_frame`); `label` says what it downloads
    when a page has more than one. The CSV is written when the button is clicked (a callable: Streamlit's deferred
    download), not on every script run: on the large world the search-term CSV alone took longer than the page's 1 s
    warm budget. `df` may itself be a callable that reads the frame, so a table shown a page at a time exports all
    its rows only when asked."""
    from services.analytics.export import export_filename, to_safe_csv
    from services.analytics.presentation import export_frame

    st.download_button(
        label or "Download CSV",
        lambda: to_safe_csv(export_frame(df() if callable(df) else df)),
        file_name=export_filename(table, c.profile_id, c.period.start, c.period.end),
        mime="text/csv",
        key=key,
        on_click="ignore",
    )


def page_path(name: str) -> str:
    """Pages are addressed by file path, anchored to this folder so any working directory works."""
    return str(connect.Path(__file__).parent / name)


def need_controls() -> Controls:
    """The sidebar's controls, or a friendly stop when nothing is connected or synced yet."""
    c = st.session_state.get("_controls")
    if c is not None and (
        c.account_id != current_account()
        or not person().can_view(c.account_id)
        or not connect.owns_profile(store(), c.account_id, c.profile_id)
    ):
        c = None  # a profile of another account, or of one not granted, is never shown, whatever session_state says
    if c is None:
        if current_account():  # connected (the demo seller too), nothing synced yet: say the next step
            st.info("Your account is connected, but its data isn't synced yet. Sync it to see this page.")
            st.page_link(page_path("connect.py"), label="Sync now on the Connect page", icon="🔄")
        else:
            st.info("Connect an account (or explore the demo seller) and sync it to see this page.")
            st.page_link(page_path("connect.py"), label="Go to Connect", icon="🔌")
        st.stop()
    return c


def applied_changes(account_id: str, profile_id: str, version: str):
    """Changes applied through the dashboard, one marker per day on the trend chart (not cached: an apply
    must show at once, and the query reads a few rows)."""
    from services.optimizer import change_markers

    return change_markers(store(), account_id, profile_id)


def column_config(df, currency: str) -> dict:
    """Headers and formats from the one registry (`services.analytics.presentation`), so every table reads the same
    way and its CSV carries the same headers."""
    from services.analytics import presentation
    from services.analytics.metrics import format_money

    symbol = format_money(0, currency)[:-4].replace("%", "%%")
    # Streamlit's currency formats put the sign before the symbol and group thousands ("-$26.14", "$8,347.66");
    # a printf format would write "$-26.14" and "$8347.66", so it is only the fallback for other currencies
    money_format = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}.get(currency, f"{symbol}%.2f")
    config = {}
    for col in df.columns:
        entry = presentation.column(col)
        title, kind, help_text = entry.label, entry.kind, entry.help or None
        if kind == "percent":
            config[col] = st.column_config.NumberColumn(title, format="percent", help=help_text)
        elif kind == "money":
            config[col] = st.column_config.NumberColumn(title, format=money_format, help=help_text)
        elif kind == "points":
            config[col] = st.column_config.NumberColumn(title, format="%+d%%", help=help_text)
        elif kind == "multiple":
            config[col] = st.column_config.NumberColumn(title, format="%.2f×", help=help_text)
        elif kind == "count":
            config[col] = st.column_config.NumberColumn(title, format="localized", help=help_text)
        elif kind == "number":
            config[col] = st.column_config.NumberColumn(title, format="%.2f", help=help_text)
        elif kind == "image":
            config[col] = st.column_config.ImageColumn(title, help=help_text, width="small")
        else:
            config[col] = st.column_config.Column(title, help=help_text)
    return config


def table(df, c: Controls, key: str, first: list[str] | None = None, **kw):
    """A metric table: identity columns first, metrics in reading order, readable headers and formats."""
    from services.analytics import display_columns
    from services.analytics.presentation import readable

    shown = readable(df[display_columns(df, first)] if first is not None else df)
    config = column_config(shown, c.currency)
    config.update(kw.pop("column_config", {}))
    kw.setdefault(
        "placeholder", "—"
    )  # a missing value (a ratio without a base, a total with no state) reads "—", not "None"
    return st.dataframe(shown, hide_index=True, width="stretch", key=key, column_config=config, **kw)
