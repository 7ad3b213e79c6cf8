"""Sending actions: Amazon refuses a request naming one entity twice, so such changes go in separate calls."""

from __future__ import annotations

from types import SimpleNamespace

from services.optimizer.actions import Action, _send


class RecordingClient:
    """Answers every item ok and remembers each call's entity ids (Amazon would refuse a repeated id)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str]]] = []

    def update(self, profile_id, kind, payloads):
        ids = [p["campaignId"] for p in payloads]
        assert len(ids) == len(set(ids)), f"campaignId appears more than once: {ids}"
        self.calls.append(("update", kind, ids))
        items = [SimpleNamespace(ok=True, entity_id=i, reason="", errors=[], entity=None) for i in ids]
        return SimpleNamespace(items=items)


def _campaign_change(cid: str, change_type: str, field: str, new) -> Action:
    return Action(
        None,
        change_type,
        "update",
        "campaigns",
        {"campaignId": cid, field: new},
        "campaign",
        cid,
        cid,
        cid,
        None,
        field,
        None,
        new,
    )


def test_two_changes_of_one_campaign_go_in_two_calls():
    client = RecordingClient()
    actions = [
        _campaign_change("C1", "budget", "budget", 50),
        _campaign_change("C2", "budget", "budget", 70),
        _campaign_change("C1", "placement", "placement", 30),
    ]
    _send(client, "P", actions)
    assert client.calls == [("update", "campaigns", ["C1", "C2"]), ("update", "campaigns", ["C1"])]
    assert all(a.result["ok"] for a in actions)
