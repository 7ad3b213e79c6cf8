"""Access (admins only): who may see and change which account once people sign in.

Thin: each button is one call into services.accounts.grants, which checks again that the signed-in person is an
admin (the store connection carries who it is).
"""

import pandas as pd
import streamlit as st

from pages import common
from services import connect
from services.accounts import grants
from services.errors import DashboardError

ROLE_LABELS = {grants.VIEWER: "Viewer: reads and exports", grants.APPROVER: "Approver: may also approve and apply"}

st.title("Access")
st.caption(
    "People sign in with the configured login. Each sees only the accounts granted here. A viewer reads and "
    "exports; an approver may also approve, apply, undo and sync. Admins see every account and manage access."
)
db = common.store()
me = common.person()
done = st.session_state.pop("_access_done", None)
if done:
    st.success(common.md(done))


def _act(fn, sentence: str) -> None:
    try:
        fn()
    except DashboardError as exc:
        common.show_error(exc)
        return
    st.session_state["_access_done"] = sentence
    st.rerun()


accounts = connect.list_accounts(db)
names = dict(zip(accounts["account_id"], accounts["name"]))
st.subheader("Grant an account")
if not names:
    st.info("No account is connected yet: connect one on the Connect page first.")
else:
    with st.form("grant_form", clear_on_submit=True):
        user = st.text_input("Sign-in email", placeholder="name@example.com", key="grant_user")
        account_id = st.selectbox("Account", list(names), format_func=names.get, key="grant_account")
        role = st.radio("Role", list(ROLE_LABELS), format_func=ROLE_LABELS.get, key="grant_role", horizontal=True)
        if st.form_submit_button("Grant", type="primary"):
            _act(
                lambda: grants.grant(db, user, account_id, role, by=me.user),
                f"{grants.normalize_user(user)} is now {role} on {names[account_id]}.",
            )

st.subheader("Who has access")
rows = grants.list_grants(db)
table = pd.DataFrame(rows, columns=["user", "account", "role", "granted_at", "granted_by", "account_id"])
st.dataframe(table.drop(columns=["account_id"]), hide_index=True, width="stretch", key="grants_table")
if rows:
    labels = {f"{r['user']}|{r['account_id']}": f"{r['user']} · {r['account']} ({r['role']})" for r in rows}
    picked = st.selectbox("Grant to revoke", list(labels), format_func=labels.get, key="revoke_pick")
    if st.button("Revoke", key="revoke"):
        who, account_id = picked.split("|", 1)
        _act(lambda: grants.revoke(db, who, account_id), f"{who} no longer has access to {names.get(account_id)}.")

st.subheader("Admins")
admins = grants.list_admins(db)
st.write(", ".join(common.md(a) for a in admins) or "No admin yet.")
a1, a2 = st.columns(2)
with a1.form("admin_form", clear_on_submit=True):
    new_admin = st.text_input("Make an admin (sign-in email)", key="admin_user")
    if st.form_submit_button("Add admin"):
        _act(lambda: grants.add_admin(db, new_admin, by=me.user), f"{grants.normalize_user(new_admin)} is an admin.")
if admins:
    gone = a2.selectbox("Admin to remove", admins, key="admin_remove_pick")
    if a2.button("Remove admin", key="admin_remove"):
        _act(lambda: grants.remove_admin(db, gone), f"{gone} is no longer an admin.")
