"""App start settles what an interrupted apply left unrecorded: read back from Amazon, recorded, told in a sentence."""

from tests.pages.conftest import new_app


def test_app_start_records_a_change_that_reached_amazon_before_a_crash(app_env):
    """No sync needed: the demo seller connected with its profiles is enough for the sidebar to run."""
    from services import connect
    from services import optimizer as sugg
    from services.optimizer import journal
    from services.optimizer.actions import Action

    db = connect.open_store(app_env)
    vault = connect.make_vault(app_env)
    sugg.ensure_schema(db)
    demo_account = connect.connect_demo_seller(db, vault)
    connect.refresh_profiles(db, vault, demo_account)
    pid = str(connect.stored_profiles(db, demo_account)["profile_id"].iloc[0])
    client = sugg.client_for_profile(db, vault, demo_account, pid)
    kw = next(k for k in client.list_entities(pid, "keywords") if k["state"] == "ENABLED" and k.get("bid"))
    kid, ag, cid, bid = kw["keywordId"], kw["adGroupId"], kw["campaignId"], float(kw["bid"])
    new_bid = round(float(bid) + 0.37, 2)
    action = Action(
        suggestion_id=None,
        change_type="bid",
        method="update",
        kind="keywords",
        payload={"keywordId": kid, "bid": new_bid},
        entity_kind="keyword",
        entity_id=kid,
        entity_name="crash test",
        campaign_id=cid,
        ad_group_id=ag,
        field="bid",
        old_value=bid,
        new_value=new_bid,
    )
    # the killed process had journaled the change and Amazon had accepted it; then nothing was recorded
    journal.close_batch(journal.open_batch(db, demo_account, pid, [action])[0])
    assert client.update(pid, "keywords", [action.payload]).all_ok
    assert sugg.change_history(db, demo_account, pid).query("entity_id == @kid").empty

    at = new_app(demo_account)  # the first run of a session settles it and says so once
    assert not at.exception, at.exception
    assert any("An earlier apply was interrupted" in i.value for i in at.sidebar.info), [
        i.value for i in at.sidebar.info
    ]
    row = sugg.change_history(db, demo_account, pid).query("entity_id == @kid")
    assert len(row) == 1 and row["ok"].iloc[0] == 1 and float(row["new_value"].iloc[0]) == new_bid
    assert not journal.has_sending(db, demo_account)
    # the recorded change is undoable like any other
    assert sugg.undo(db, client, row["change_id"], confirmed=True).failed == 0
