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
from services.analytics.periods import COMPARISONS, RANGE_CHOICES, Period, comparison_period, resolve_range
from services.analytics.text import escape_markdown
from services.errors import DashboardError

ACCOUNT_KEY = "account_id"  # session_state holds ids only, never a token


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
    """A connection for this script run (SQLite connections are not shared between sessions)."""
    return connect.open_store(connect.db_path())


def vault():
    """The store's vault; a missing key file beside encrypted secrets stops the page with the sentence that says so."""
    path = connect.db_path()
    try:
        return _vault(str(path), connect.vault_fingerprint(path, _configured_keys()))
    except connect.VaultError as exc:
        st.error(str(exc))
        st.stop()


def current_account() -> str | None:
    return st.session_state.get(ACCOUNT_KEY)


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


@st.cache_data(ttl="15m", max_entries=128, show_spinner=False)
def search_terms(account_id: str, q: analytics.Query, version: str):
    return analytics.search_terms_table(store(), q)


@st.cache_data(ttl="15m", max_entries=128, show_spinner=False)
def converters_not_exact(account_id: str, q: analytics.Query, version: str):
    return analytics.converters_not_exact(store(), q, search_terms(account_id, q, version))


@st.cache_data(ttl="15m", max_entries=256, show_spinner=False)
def ngrams(account_id: str, q: analytics.Query, n: int, version: str):
    from services.analytics.ngrams import ngram_table

    terms = search_terms(account_id, q, version)
    by_term = terms.groupby("search_term", as_index=False)[
        ["impressions", "clicks", "cost", "sales", "orders", "units"]
    ].sum()
    return ngram_table(by_term, n)


@st.cache_data(ttl="15m", max_entries=128, show_spinner=False)
def products(account_id: str, q: analytics.Query, version: str):
    return analytics.products_table(store(), q), analytics.halo_table(store(), q)


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


def forget_suggestions() -> None:
    """After approve / reject / snooze / apply / undo / refresh: the cached work lists are stale."""
    suggestion_list.clear()


def download(df, table: str, c: Controls, key: str, label: str | None = None) -> None:
    """Every table shown gets a CSV through the one safe writer; the file name carries profile and range.

    The file carries the page's headers and formats (`presentation.export_frame`); `label` says what it downloads
    when a page has more than one. The CSV is written when the button is clicked (a callable: Streamlit's deferred
    download), not on every script run: on the large world the search-term CSV alone took longer than the page's 1 s
    warm budget."""
    from services.analytics.export import export_filename, to_safe_csv
    from services.analytics.presentation import export_frame

    st.download_button(
        label or "Download CSV",
        lambda: to_safe_csv(export_frame(df)),
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
        c.account_id != current_account() or not connect.owns_profile(store(), c.account_id, c.profile_id)
    ):
        c = None  # a profile of another account is never shown, whatever session_state says
    if c is None:
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
    config = {}
    for col in df.columns:
        entry = presentation.column(col)
        title, kind, help_text = entry.label, entry.kind, entry.help or None
        if kind == "percent":
            config[col] = st.column_config.NumberColumn(title, format="percent", help=help_text)
        elif kind == "money":
            config[col] = st.column_config.NumberColumn(title, format=f"{symbol}%.2f", help=help_text)
        elif kind == "points":
            config[col] = st.column_config.NumberColumn(title, format="%+d%%", help=help_text)
        elif kind == "multiple":
            config[col] = st.column_config.NumberColumn(title, format="%.2f×", help=help_text)
        elif kind == "count":
            config[col] = st.column_config.NumberColumn(title, format="localized", help=help_text)
        elif kind == "number":
            config[col] = st.column_config.NumberColumn(title, format="%.2f", help=help_text)
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
    return st.dataframe(shown, hide_index=True, width="stretch", key=key, column_config=config, **kw)
