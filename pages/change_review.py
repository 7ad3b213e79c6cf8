"""The Suggestions page's record of what was done: the 30-day impact line, the change history with each change's
measured effect, and the autopilot's runs with the undo of a whole run.

Kept apart so `pages/suggestions.py` (the work list and apply) stays readable; a viewer's read-only page uses the
same sections without the undo. Every figure comes from `services.optimizer.impact` / `autopilot_history`, the
impacts through the one cache in `pages/common.py`.
"""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from pages import common
from services.errors import DashboardError
from services.optimizer import autopilot_history, impact, review

log = logging.getLogger(__name__)
CONFIRM_UNDO_RUN = "confirm_undo_run"  # the run id whose undo is being confirmed


def impacts(c: common.Controls) -> pd.DataFrame:
    return common.change_impacts(
        c.account_id, c.profile_id, f"{c.window}d", common.impacts_version(c.account_id, c.profile_id)
    )


def impact_line(c: common.Controls) -> None:
    """'Changes applied in the last 30 days: +$X profit, estimated' under the page title."""
    st.markdown(f":material/trending_up: **{common.md(impact.summary_sentence(impacts(c), c.currency))}**")


def history(c: common.Controls, db, tz_name: str) -> pd.DataFrame:
    """The change history with the measured effect of each applied change beside it."""
    return impact.history_with_effects(review.history(db, c.account_id, c.profile_id, tz_name, c.currency), impacts(c))


def effects_download(c: common.Controls) -> None:
    common.download(
        lambda: impact.with_measured_text(impacts(c)),
        "change-effects",
        c,
        key="dl_effects",
        label="Download the measured effects, before, after and expected (CSV)",
    )


def autopilot_runs(c: common.Controls, db, vault, tz_name: str, *, may_change: bool, result_key: str) -> None:
    """The runs, the picked run's changes with their why, and (for an approver) the undo of the whole run."""
    st.subheader("Autopilot runs")
    runs = autopilot_history.runs_table(db, c.account_id, c.profile_id, tz_name)
    if runs.empty:
        st.caption(
            "The autopilot has not run on this profile yet. Set its guardrails and schedule on Goals; "
            "it applies only what they allow, and every run shows here."
        )
        return
    config = common.column_config(runs, c.currency)
    config["started_at"] = st.column_config.TextColumn(f"Started ({tz_name})")
    st.dataframe(
        runs,
        hide_index=True,
        width="stretch",
        key="autopilot_runs",
        column_order=[col for col in autopilot_history.RUN_COLUMNS if col != "run_id"],
        column_config=config,
    )
    common.download(runs, "autopilot-runs", c, key="dl_autopilot_runs", label="Download the autopilot runs (CSV)")
    labels = {r["run_id"]: autopilot_history.run_label(r) for r in runs.to_dict("records")}
    run_id = st.selectbox("What one run changed, and why", list(labels), format_func=labels.get, key="autopilot_run")
    changes = autopilot_history.run_changes_table(db, c.account_id, c.profile_id, run_id, tz_name, c.currency)
    changes_config = common.column_config(changes, c.currency)
    changes_config.update(
        reason=st.column_config.TextColumn("Why", width="large"),
        applied_at=st.column_config.TextColumn(f"Applied ({tz_name})"),
        undone_at=st.column_config.TextColumn(f"Undone ({tz_name})"),
        ok=st.column_config.CheckboxColumn("Accepted"),
    )
    st.dataframe(
        changes,
        hide_index=True,
        width="stretch",
        key="autopilot_changes",
        column_order=[col for col in changes.columns if col != "change_id" and changes[col].notna().any()],
        column_config=changes_config,
    )
    common.download(
        changes, "autopilot-run-changes", c, key="dl_autopilot_changes", label="Download this run's changes (CSV)"
    )
    run = runs.set_index("run_id").loc[run_id]
    live = int(run["live_changes"])
    if run["mode"] == "Dry run":
        st.caption("A dry run changed nothing on Amazon: this is what it would have done.")
        return
    if not may_change:
        st.caption("Your access to this account is view-only: an approver can undo a run.")
        return
    if st.button(f"Undo this whole run ({live} change(s))…", key="autopilot_undo", disabled=not live):
        st.session_state[CONFIRM_UNDO_RUN] = run_id
    if st.session_state.get(CONFIRM_UNDO_RUN) == run_id and live:
        st.warning(f"Put back the {live} value(s) this run changed in the live account?")
        if st.button("Yes, undo the whole run on Amazon", key="autopilot_undo_confirm", type="primary"):
            st.session_state.pop(CONFIRM_UNDO_RUN, None)
            try:
                frame = autopilot_history.undo_autopilot_run(db, vault, c.account_id, run_id, confirmed=True)
            except DashboardError as exc:
                common.show_error(exc)
                return
            except Exception as exc:  # never a traceback on the page; details in the server log
                log.exception("undo of autopilot run %s failed", run_id)
                common.show_error(exc)
                return
            st.session_state[result_key] = {"kind": "undo", "frame": frame}
            common.forget_suggestions()
            st.rerun()
