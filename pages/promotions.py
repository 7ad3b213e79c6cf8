"""Promotions: coupon and deal performance, suggested changes, and a create form Amazon will accept."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from pages import common
from services.analytics.charts import timeline_figure
from services.analytics.sales import product_names
from services.promotions import form as promotion_form
from services.promotions import store as promotion_store
from services.promotions.analytics import asin_list
from services.promotions.drafts import CouponDraft, PedDraft, PercentOffDraft
from services.promotions.store import account_asins
from services.promotions.suggestions import readable_suggestions

c = common.need_controls()
db = common.store()
product_name_by_asin = product_names(db, c.profile_id)  # ASIN -> product name, for the list and the product picker
# a check or export belongs to the profile it was made on: the UK page never shows a US form's errors
CHECK_KEY, EXPORT_KEY = f"promo_check_{c.profile_id}", f"promo_export_{c.profile_id}"
st.title("Promotions")
perf_tab, sugg_tab, create_tab = st.tabs(["Performance", "Suggested changes", "Create a promotion"])

OVERVIEW_SHOWN = [
    "name", "kind", "status", "start", "end", "discount", "audience", "budget", "budget_spent", "budget_used",
    "time_elapsed", "pace", "clips", "redemptions", "clip_to_redeem", "sales", "fee", "cost_per_redemption",
    "fee_share", "effective_depth", "sales_per_spend", "units_sold", "revenue", "glance_views", "conversion",
    "alert", "asins", "promotion_id",
]  # fmt: skip


HISTORY_SHOWN = [
    "snapshot_date", "clips", "new_clips", "redemptions", "new_redemptions", "budget", "budget_spent", "new_spend",
    "budget_used", "time_elapsed", "pace", "sales", "new_sales", "total_discount",
]  # fmt: skip


def promotion_table(overview: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    shown = overview[[col for col in OVERVIEW_SHOWN if col in overview.columns]].copy()
    # a promotion's name is not a product's, and a coupon's budget is for its whole run, not a day
    shown = shown.rename(columns={"name": "promotion_name", "budget": "promotion_budget"})
    listed = [asin_list(a) for a in shown["asins"]]
    shown["asins"] = ["; ".join(a) for a in listed]
    # every table that shows an ASIN also shows its product's name (issue 14)
    shown.insert(
        shown.columns.get_loc("asins"), "asin_names", ["; ".join(names.get(a) or a for a in x) for x in listed]
    )
    return shown


with perf_tab:
    records = promotion_store.records_version(db, c.profile_id)  # drafts saved or deleted below: a new entry
    overview, promos, sales = common.promotions_overview(c.account_id, c.profile_id, f"{c.version()}#{records}")
    shown = promotion_table(overview, product_name_by_asin)
    common.table(
        shown,
        c,
        "promo_table",
        column_config={
            "budget_used": st.column_config.ProgressColumn(
                "Budget used", min_value=0.0, max_value=1.0, format="percent"
            ),
            "time_elapsed": st.column_config.ProgressColumn(
                "Time elapsed", min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )
    common.download(shown, "promotions", c, key="dl_promotions", label="Download the promotions (CSV)")
    st.plotly_chart(timeline_figure(promos, sales, c.currency), key="promo_timeline")
    coupons = overview[(overview["kind"] == "coupon") & overview["promotion_id"].notna()]
    if not coupons.empty:
        names = dict(zip(coupons["promotion_id"], coupons["name"].fillna(coupons["promotion_id"])))
        cid = st.selectbox("Coupon", list(names), format_func=lambda k: names[k], key="promo_coupon")
        row = coupons[coupons["promotion_id"] == cid].iloc[0]
        st.write(
            f"Daily snapshots of **{common.md(row['name'])}** (Amazon reports totals to date; the daily change is derived)."
        )
        history, perf_rows = common.coupon_detail(
            c.account_id, c.profile_id, cid, tuple(asin_list(row["asins"])), row["start"], row["end"], c.version()
        )
        common.table(history[[col for col in HISTORY_SHOWN if col in history.columns]], c, "coupon_history")
        st.write(
            "Ad performance of the promoted ASINs: the promotion against the weeks before (the same advertised-product "
            "rows as the Products page)."
        )
        if perf_rows is None:
            st.caption("The coupon has not run a full day yet: nothing to compare.")
        else:
            common.table(perf_rows, c, "promo_asins")

with sugg_tab:
    found = common.promotion_suggestions(c.account_id, c.profile_id, c.version())
    if found.empty:
        st.write("No promotion changes to suggest right now.")
    else:
        readable = readable_suggestions(found)
        common.table(readable, c, "promo_sugg_table")
        st.caption(
            "Amazon allows only two changes on a live coupon: a higher budget and a later end date. Make them in Seller Central."
        )
        common.download(
            readable, "promotion-suggestions", c, key="dl_promo_sugg", label="Download the suggestions (CSV)"
        )


def asin_field() -> str:
    """The ASINs of a draft: products picked by name from the account's catalogue, plus any typed by hand."""
    known = sorted(account_asins(db, c.profile_id), key=lambda a: (product_name_by_asin.get(a) or "~", a))
    picked = st.multiselect(
        "Products", known, format_func=lambda a: f"{product_name_by_asin.get(a) or a} ({a})", key="asins_picked",
        placeholder="Pick products by name",
    )  # fmt: skip
    typed = st.text_area("ASINs (separated by ; or new lines)", key="asins")
    field_messages("asins")
    return "; ".join([*picked, typed]) if typed.strip() else "; ".join(picked)


def field_messages(field: str) -> None:
    """Errors and warnings of the last check, shown right under their field."""
    last = st.session_state.get(CHECK_KEY) or {}
    for msg in last.get("errors", {}).get(field, []):
        st.error(common.md(msg))
    for msg in last.get("warnings", {}).get(field, []):
        st.warning(common.md(msg))


with create_tab:
    kind = st.radio(
        "Kind",
        ["Coupon", "Percentage off", "Buy one get one", "Prime Exclusive Discount"],
        horizontal=True,
        key="promo_kind",
    )
    today = date.today()
    if kind == "Coupon":  # outside the form, so the form shows only the chosen discount's field
        dtype = st.radio(
            "Discount",
            ["percent", "money"],
            format_func={"percent": "Percentage off", "money": "Money off"}.get,
            horizontal=True,
            key="discount_type",
        )
    with st.form("promo_form", clear_on_submit=False):
        if kind == "Coupon":
            asins = asin_field()
            pct = money = None
            if dtype == "percent":
                pct = st.number_input(
                    "Percent off", min_value=0.0, max_value=100.0, value=10.0, step=1.0, key="percent_off"
                )
                field_messages("percent_off")
            else:
                money = st.number_input(
                    f"Money off ({c.currency})", min_value=0.0, value=0.0, step=0.5, key="money_off"
                )
                field_messages("money_off")
            title = st.text_input("Title suffix (after Amazon's 'Save X% on')", max_chars=200, key="title_suffix")
            field_messages("title_suffix")
            budget = st.number_input(f"Budget ({c.currency})", min_value=0.0, value=100.0, step=50.0, key="budget")
            field_messages("budget")
            start = st.date_input("Start", value=today + timedelta(days=1), key="start_date")
            field_messages("start_date")
            end = st.date_input("End", value=today + timedelta(days=30), key="end_date")
            field_messages("end_date")
            segment = st.selectbox("Audience", ["All", "Prime", "Student"], key="customer_segment")
            once = st.checkbox("Once per customer", value=True, key="once_per_customer")
            draft = CouponDraft(
                asins=asins,
                discount_type=dtype,
                percent_off=pct if dtype == "percent" else None,
                money_off=money if dtype == "money" else None,
                title_suffix=title,
                budget=budget,
                start_date=start,
                end_date=end,
                customer_segment=segment,
                once_per_customer=once,
                currency=c.currency,
            )
        elif kind == "Prime Exclusive Discount":
            name = st.text_input("Name", key="name")
            field_messages("name")
            skus = st.text_area("SKUs (separated by ; or new lines)", key="skus")
            field_messages("skus")
            ptype = st.selectbox("Discount type", ["Percentage Off", "Amount Off", "Fixed Price"], key="ped_type")
            value = st.number_input("Discount value", min_value=0.0, value=10.0, key="discount_value")
            field_messages("discount_value")
            start = st.date_input("Start", value=today + timedelta(days=1), key="ped_start")
            field_messages("start")
            end = st.date_input("End", value=today + timedelta(days=14), key="ped_end")
            field_messages("end")
            draft = PedDraft(
                name=name,
                skus=skus,
                discount_type=ptype,
                discount_value=value,
                start=start,
                end=end,
                currency=c.currency,
            )
        else:
            name = st.text_input("Internal description", key="name")
            field_messages("name")
            asins = asin_field()
            start = st.date_input("Start", value=today + timedelta(days=1), key="po_start")
            field_messages("start")
            end = st.date_input("End", value=today + timedelta(days=14), key="po_end")
            field_messages("end")
            claim = st.selectbox("Claim code", ["none", "single_use", "group"], key="claim_code_type")
            field_messages("claim_code_type")
            one = st.checkbox("One redemption per customer", key="one_redemption_per_customer")
            comb = st.selectbox("Combinability", ["preferential", "exclusive", "unrestricted"], key="combinability")
            if kind == "Percentage off":
                tiers_text = st.text_input("Tiers: buy N → % off, e.g. 2:10, 5:15", value="2:10", key="tiers_text")
                field_messages("tiers")
                draft = PercentOffDraft(
                    kind="percent_off",
                    name=name,
                    asins=asins,
                    tiers=promotion_form.parse_tiers(tiers_text),
                    start=pd.Timestamp(start).to_pydatetime(),
                    end=pd.Timestamp(end).to_pydatetime(),
                    claim_code_type=claim,
                    one_redemption_per_customer=one,
                    combinability=comb,
                    currency=c.currency,
                )
            else:
                buy = st.number_input("Buy", min_value=1, value=1, key="buy_quantity")
                field_messages("buy_quantity")
                free = st.number_input("Get free", min_value=1, value=1, key="free_quantity")
                field_messages("free_quantity")
                draft = PercentOffDraft(
                    kind="bogo",
                    name=name,
                    asins=asins,
                    condition="for_every_quantity",
                    buy_quantity=buy,
                    free_quantity=free,
                    start=pd.Timestamp(start).to_pydatetime(),
                    end=pd.Timestamp(end).to_pydatetime(),
                    claim_code_type=claim,
                    one_redemption_per_customer=one,
                    combinability=comb,
                    currency=c.currency,
                )
        submitted = st.form_submit_button("Check and save draft")
    if submitted:
        rid, result = promotion_form.check_and_save(db, draft, profile_id=c.profile_id, account_id=c.account_id)
        st.session_state[CHECK_KEY] = {"errors": result.errors, "warnings": result.warnings, "record_id": rid}
        st.rerun()
    last = st.session_state.get(CHECK_KEY)
    if last:
        if last["errors"]:
            st.error(
                f"{sum(len(v) for v in last['errors'].values())} problem(s) to fix before Amazon will accept this. "
                "The draft is kept, marked as breaking a rule, and is not exported until it is fixed."
            )
        else:
            st.success("Amazon's rules are met. The draft is saved and ready to export.")

    st.subheader("Drafts and exports")
    rows = promotion_form.drafts_table(db, c.profile_id)
    records = pd.DataFrame(rows)
    if records.empty:
        st.write("No drafts yet.")
    else:
        listed = records.drop(columns=["record_id"]).assign(
            kind=[promotion_form.KIND_LABELS.get(k, k) for k in records["kind"]]
        )
        picked = st.dataframe(
            listed,
            hide_index=True,
            width="stretch",
            key="records_table",
            on_select="rerun",
            selection_mode="multi-row",
            column_config=common.column_config(listed, c.currency),
        )
        chosen = [records.iloc[i]["record_id"] for i in picked.selection.rows if i < len(records)]
        deletable = [rid for rid in chosen if records.set_index("record_id").loc[rid, "status"] == "draft"]
        if st.button(
            f"Delete {len(deletable)} selected draft(s)", key="delete_drafts", disabled=not deletable,
            help="Select drafts in the table (click their rows). Exported promotions stay: they are what was sent.",
        ):  # fmt: skip
            gone = promotion_form.delete_drafts(db, c.profile_id, deletable)
            st.session_state.pop(CHECK_KEY, None)
            st.session_state.pop("records_table", None)  # the rows selected are gone
            st.session_state["promo_deleted"] = gone
            st.rerun()
        if st.session_state.get("promo_deleted"):
            st.success(f"{st.session_state.pop('promo_deleted')} draft(s) deleted.")
        failing = promotion_form.failing_drafts_message(rows)
        if failing:
            st.warning(common.md(failing))
        drafts = records[records["status"] == "draft"]
        ready = drafts[drafts["check"] == "Ready to export"]
        fmt = st.radio("File", ["csv", "xlsx"], horizontal=True, key="export_fmt")
        for k, group in ready.groupby("kind"):
            if st.button(f"Export {len(group)} {k} draft(s)", key=f"export_{k}"):
                res = promotion_form.export(db, group["record_id"].tolist(), k, fmt, c.profile_id)
                st.session_state[EXPORT_KEY] = {
                    "ok": res.ok,
                    "message": res.message,
                    "data": res.data,
                    "filename": res.filename,
                    "mime": res.mime,
                    "errors": {r: v.errors for r, v in res.results.items() if v.errors},
                }
        out = st.session_state.get(EXPORT_KEY)
        if out:
            (st.success if out["ok"] else st.error)(common.md(out["message"]))
            for rid, errs in out["errors"].items():
                st.write(
                    f"Draft {common.md(rid[:8])}: " + "; ".join(common.md(m) for msgs in errs.values() for m in msgs)
                )
            if out["ok"] and out["data"]:
                st.download_button(
                    "Download the Seller Central file",
                    out["data"],
                    file_name=out["filename"],
                    mime=out["mime"],
                    key="dl_promo_file",
                    on_click="ignore",
                )
