"""What a viewer (read and export, no changes) sees of pages that otherwise act on the live account.

Kept apart so the acting pages stay as they are and need only a guard: `if not common.can_change(...)`.
The services refuse a viewer's change anyway (services.accounts.grants.require); this is what they see instead.
"""

import streamlit as st

from pages import change_review, common
from services import optimizer as sugg
from services.analytics.export import export_filename
from services.optimizer import review

_SUGGESTION_COLUMNS = [
    "type_label",
    "status",
    "campaign_name",
    "ad_group_name",
    "keyword_text",
    "search_term",
    "current_value",
    "proposed_value",
    "reason",
    "confidence",
    "expected_spend_change",
    "expected_sales_change",
]


def suggestions(c: common.Controls) -> None:
    """The suggestions and the change history with their exports; no approve, apply or undo control."""
    db = common.store()
    st.title("Suggested changes")
    st.info("Your access to this account is view-only: you can read and export; an approver decides and applies.")
    change_review.impact_line(c)
    shown = review.shown_suggestions(
        db,
        c.account_id,
        c.profile_id,
        types=None,
        statuses=list(sugg.STATUSES),
        min_confidence=0.0,
        search="",
        sort_by="confidence",
    )
    st.dataframe(
        shown[[col for col in _SUGGESTION_COLUMNS if col in shown.columns]],
        hide_index=True,
        width="stretch",
        key="sugg_readonly_table",
        column_config={"confidence": st.column_config.ProgressColumn("Confidence", min_value=0.0, max_value=1.0)},
    )
    st.download_button(
        "Download suggestions (CSV)",
        lambda: sugg.export_suggestions_csv(shown),
        key="dl_sugg",
        on_click="ignore",
        file_name=export_filename("suggestions", c.profile_id, c.period.start, c.period.end),
        mime="text/csv",
    )
    st.subheader("Change history")
    hist = change_review.history(c, db, "UTC")
    st.dataframe(hist, hide_index=True, width="stretch", key="history_table")
    common.download(hist, "change-history", c, key="dl_history")
    change_review.effects_download(c)
    change_review.autopilot_runs(c, db, None, "UTC", may_change=False, result_key="apply_result")
