"""AppTest of the Suggestions page against the demo sandbox: review, approve, apply with confirmation, undo."""

from tests.pages.conftest import new_app


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_approve_apply_and_undo(demo_account):
    at = new_app(demo_account, "suggestions.py")
    assert not at.exception, at.exception
    _button(at, "generate").click().run()
    assert not at.exception, at.exception
    assert "ready for review" in at.success[0].value
    table = at.dataframe[0].value
    assert len(table) > 0 and {"reason", "confidence", "cvr_shrunk", "current_value", "proposed_value"} <= set(
        table.columns
    )

    # narrow to bid changes with high confidence, approve all of them
    at.multiselect(key="sugg_types").set_value(["Bid changes"]).run()
    at.slider(key="sugg_conf").set_value(0.5).run()
    shown = at.dataframe[0].value
    assert len(shown) > 0 and set(shown["type_label"]) == {"Bid changes"}
    _button(at, "decide_approve").click().run()
    assert f"{len(shown)} approved change(s) waiting." in [m.value for m in at.markdown]

    # nothing is sent without the explicit confirmation
    _button(at, "apply").click().run()
    assert "Send" in at.warning[0].value
    assert not any(d.key == "apply_table" for d in at.dataframe) if hasattr(at.dataframe[0], "key") else True
    _button(at, "apply_confirm").click().run()
    assert not at.exception, at.exception
    assert any("Amazon accepted" in s.value for s in at.success), [e.value for e in at.error]
    history = at.dataframe[-1].value
    assert len(history) >= len(shown) and history["ok"].all()

    _button(at, "undo").click().run()
    _button(at, "undo_confirm").click().run()
    assert not at.exception, at.exception
    history = at.dataframe[-1].value
    assert history["undone_at"].notna().sum() >= len(shown)
