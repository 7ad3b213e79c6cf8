"""Goals: margins per product, the account's strategy (Profit, Target ACOS, Target TACoS), campaign and product
overrides and the optimizer's settings. Every action is one call into `services.optimizer.goals`."""

import logging

import pandas as pd
import streamlit as st

from pages import common
from services import connect
from services.errors import DashboardError
from services.optimizer import autopilot_settings, goals

log = logging.getLogger(__name__)
c = common.need_controls()
db = common.store()
st.title("Goals")
st.caption(
    "What the optimizer aims at. Suggestions made after a change here use it; each one says which target it used "
    "and where that target came from."
)


FLASH = "_goal_flash"  # (kind, sentence, optional table) to show after the rerun that redraws fresh tables


def done(kind: str, sentence: str, table: pd.DataFrame | None = None) -> None:
    """After a saved change: rerun so every table on the page shows it, with the sentence on top."""
    st.session_state[FLASH] = (kind, sentence, table)
    st.rerun()


flash = st.session_state.pop(FLASH, None)
if flash:
    getattr(st, flash[0])(flash[1])
    if flash[2] is not None and len(flash[2]):
        st.dataframe(flash[2], hide_index=True, key="goal_flash_table")


def act(fn, *args, **kwargs):
    """One service call; a refusal is a sentence, anything else a generic one (details in the server log)."""
    try:
        return fn(*args, **kwargs)
    except DashboardError as exc:
        common.show_error(exc)
    except Exception as exc:  # never a traceback on the page
        log.exception("goals action failed")
        common.show_error(exc)
    return None


def pct_or_none(value):
    return None if value is None or pd.isna(value) else float(value)


# ------------------------------------------------------------------ strategy
st.subheader("Strategy")
current = goals.get_strategy(db, c.account_id)
kinds = list(goals.STRATEGY_LABELS)
kind = st.radio(
    "The account aims at",
    kinds,
    index=kinds.index(current.kind),
    format_func=goals.STRATEGY_LABELS.get,
    captions=[goals.STRATEGY_SENTENCES[k] for k in kinds],
    key="goal_strategy",
)
value = None
if kind != "profit":
    value = st.number_input(
        f"{goals.STRATEGY_LABELS[kind]} (%)",
        min_value=0.0,
        max_value=100.0,
        value=round(current.value * 100, 2) if current.kind == kind and current.value else None,
        step=0.5,
        format="%.1f",
        key=f"goal_value_{kind}",
    )
if st.button("Save strategy", key="goal_strategy_save"):
    saved = act(goals.set_strategy, db, c.account_id, kind, value)
    if saved:
        done("success", f"Strategy saved. {saved.sentence}")
note = goals.tacos_note(db, c.account_id, c.profile_id)
if note:
    st.warning(note)

# ------------------------------------------------------------------ margins
st.subheader("Product margins")
st.caption(
    "Margin before ad spend, as a percent of the price (price minus cost of goods and Amazon's fees). It is the "
    "product's break-even ACOS: above it, every ad-driven sale loses money. Profit aims at about half of it. "
    "A target ACOS set for a product beats its margin and the account's target."
)
products = goals.products_table(db, c.account_id, c.profile_id)
edited = st.data_editor(
    products,
    hide_index=True,
    width="stretch",
    key="goal_products",
    disabled=["asin", "name", "sku", "break_even_acos_pct", "profit_target_pct"],
    column_config={
        "asin": st.column_config.TextColumn("ASIN"),
        "name": st.column_config.TextColumn("Product"),
        "sku": st.column_config.TextColumn("SKU"),
        "margin_pct": st.column_config.NumberColumn("Margin %", min_value=0.0, max_value=100.0, format="%.1f %%"),
        "break_even_acos_pct": st.column_config.NumberColumn("Break-even ACOS", format="%.1f %%"),
        "profit_target_pct": st.column_config.NumberColumn("Profit aims at", format="%.1f %%"),
        "target_acos_pct": st.column_config.NumberColumn(
            "Target ACOS override %", min_value=0.0, max_value=100.0, format="%.1f %%"
        ),
    },
)
if st.button("Save the table", key="goal_products_save"):
    problems = act(goals.save_products_table, db, c.account_id, products, edited)
    if problems is not None:
        done("warning", "Saved, except: " + common.md(" ".join(problems))) if problems else done("success", "Saved.")

with st.form("goal_margin_form"):
    st.markdown("**Type one product's margin**")
    labels = {r.asin: f"{r.name} ({r.asin})" if isinstance(r.name, str) else r.asin for r in products.itertuples()}
    m1, m2 = st.columns([3, 1])
    asin = m1.selectbox("Product", list(labels), format_func=labels.get, key="goal_margin_asin")
    margin = m2.number_input("Margin %", 0.0, 100.0, value=None, step=0.5, format="%.1f", key="goal_margin_pct")
    if st.form_submit_button("Save margin"):
        saved = act(goals.save_margin, db, c.account_id, asin or "", margin)
        if saved is not None:
            done("success", f"Margin of {common.md(labels.get(asin, asin))} saved: {saved:.1%}.")

upload = st.file_uploader(
    "Import margins from a CSV file: columns asin (or sku), then margin, or price and cost",
    type=["csv", "txt"],
    key="goal_margin_csv",
)
if upload is not None and st.button("Import margins", key="goal_margin_import"):
    report = act(goals.import_margins, db, c.account_id, upload.getvalue())
    if report is not None:
        refused = report.refused.rename(columns={"line": "Line", "reason": "Why it was refused"})
        done("warning" if len(refused) else "success", report.sentence, refused)

# ------------------------------------------------------------------ campaigns
st.subheader("Campaign targets")
st.caption("A campaign's own target ACOS beats every other target. Leave it empty to follow the strategy.")
camps = goals.campaigns_table(db, c.account_id, c.profile_id)
st.dataframe(
    camps.drop(columns=["campaign_id"]),
    hide_index=True,
    width="stretch",
    key="goal_campaigns",
    column_config={
        "name": "Campaign",
        "state": "State",
        "override_pct": st.column_config.NumberColumn("Override", format="%.1f %%"),
        "target_acos_pct": st.column_config.NumberColumn("Aims at (ACOS)", format="%.1f %%"),
        "source": "Target from",
    },
)
if not camps.empty:
    names = dict(zip(camps["campaign_id"], camps["name"]))
    with st.form("goal_campaign_form"):
        k1, k2 = st.columns([3, 1])
        cid = k1.selectbox("Campaign", list(names), format_func=names.get, key="goal_campaign_id")
        over = k2.number_input(
            "Target ACOS %", 0.0, 100.0, value=None, step=0.5, format="%.1f", key="goal_campaign_pct"
        )
        b1, b2 = st.columns(2)
        if b1.form_submit_button("Save override"):
            if over is None:
                st.warning("Type a target ACOS, or use “Remove override”.")
            elif act(goals.set_campaign_target, db, c.account_id, cid, over) is not None:
                done("success", f"{common.md(names[cid])} now aims at {over:.1f} % ACOS.")
        if b2.form_submit_button("Remove override"):
            act(goals.set_campaign_target, db, c.account_id, cid, None)
            done("success", f"{common.md(names[cid])} follows the strategy again.")

# ------------------------------------------------------------------ settings
st.subheader("Optimizer settings")
settings = goals.settings_table(db, c.account_id)
with st.expander("Thresholds, limits and windows (stored for this account)"):
    with st.form("goal_settings_form"):
        values = {}
        for r in settings.itertuples():
            unit = f" ({r.unit})" if r.unit else ""
            values[r.name] = st.number_input(
                f"{r.setting}{unit}",
                value=float(r.value),
                help=f"{r.description} Default: {r.default:g}{unit}.",
                key=f"goal_set_{r.name}",
            )
        s1, s2 = st.columns(2)
        if s1.form_submit_button("Save settings"):
            if act(goals.save_settings_values, db, c.account_id, values) is not None:
                done("success", "Settings saved.")
        if s2.form_submit_button("Reset to defaults"):
            act(goals.reset_settings, db, c.account_id)
            for name in settings["name"]:
                st.session_state.pop(f"goal_set_{name}", None)
            done("success", "Settings are back to their defaults.")

# ------------------------------------------------------------------ autopilot
st.subheader("Autopilot")
st.caption(
    "The autopilot syncs, computes suggestions and applies those within these guardrails, through the same change "
    "history and undo as your own applies. Its runs, what each changed and why, and the undo of a whole run are on "
    "Suggestions. Leave it off to apply everything yourself."
)
may_change = common.can_change(c.account_id)
if not may_change:
    st.caption("Your access to this account is view-only: an approver sets the autopilot.")
rails, excluded = autopilot_settings.guardrail_values(db, c.account_id)
schedule = connect.autopilot_schedule(db, c.account_id) or {"every_hours": 24, "enabled": False}
with st.form("goal_autopilot_form"):
    on = st.checkbox("Run the autopilot on a schedule", value=schedule["enabled"], key="goal_autopilot_on")
    every = st.number_input(
        "Every (hours)", 1, 168, value=int(schedule["every_hours"]), step=1, key="goal_autopilot_every"
    )
    typed = {}
    cols = st.columns(2)
    for i, f in enumerate(autopilot_settings.FIELDS):
        unit = {"%": " (%)", "money": f" ({c.currency})"}.get(f.unit, "")
        whole = f.unit in ("changes", "clicks")
        typed[f.name] = cols[i % 2].number_input(
            f"{f.label}{unit}",
            min_value=int(f.low) if whole else float(f.low),
            max_value=int(f.high) if whole else float(f.high),
            value=int(rails[f.name]) if whole else float(rails[f.name]),
            step=1 if whole else 0.5,
            help=f.help,
            key=f"goal_rail_{f.name}",
        )
    names = dict(zip(camps["campaign_id"], camps["name"])) if not camps.empty else {}
    names.update({cid: cid for cid in excluded if cid not in names})  # an excluded campaign since removed stays listed
    left_out = st.multiselect(
        "Campaigns the autopilot never touches",
        list(names),
        default=[cid for cid in excluded if cid in names],
        format_func=names.get,
        key="goal_autopilot_excluded",
    )
    if st.form_submit_button("Save autopilot settings", disabled=not may_change):
        saved = act(autopilot_settings.save_guardrail_values, db, c.account_id, typed, left_out)
        if saved is not None and act(connect.set_autopilot_schedule, db, c.account_id, int(every), on):
            when = f"runs every {int(every)} h" if on else "is off: nothing is applied without you"
            done(
                "success",
                f"Autopilot settings saved. The autopilot {when}"
                + (" (the job queue's `schedule` command starts each run)." if on else "."),
            )

# ------------------------------------------------------------------ suggestions
st.subheader("Suggestions with these goals")
if st.button("Refresh suggestions with these goals", key="goal_refresh"):
    used = act(goals.refresh_with_goals, db, c.account_id, c.profile_id, attribution=f"{c.window}d")
    if used is not None:
        n = int(used["suggestions"].sum())
        done(
            "success",
            f"{n} suggestion(s) ready for review on Suggestions.",
            used.set_axis(["Target", "Suggestions"], axis=1),
        )
st.page_link(common.page_path("suggestions.py"), label="Review suggestions", icon="💡")
