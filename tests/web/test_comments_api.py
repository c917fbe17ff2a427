"""Comments over the API: keyholders comment, viewers read but may not comment,
outsiders see nothing; the room hears comment_added, without the text."""

from __future__ import annotations

from coordinator.web.realtime import NAMESPACE, socketio

from .. import keys
from .conftest import ORIGIN, member


def test_a_keyholder_comments_and_a_viewer_reads_it(app, admin, wallet_id, proposal):
    bob, path = proposal
    carol = member(app, admin, wallet_id, "viewer", "Carol")

    posted = bob.post(f"{path}/comments", {"text": "The blue paint is cheaper."})

    assert posted.status_code == 201, posted.get_json()
    listed = carol.get(f"{path}/comments")
    assert listed.status_code == 200
    [shown] = listed.get_json()["comments"]
    assert (shown["text"], shown["member"]) == ("The blue paint is cheaper.", f"user:{bob.user['id']}")
    assert shown == posted.get_json()["comment"]
    entries = carol.get(f"/wallets/{wallet_id}/audit").get_json()["entries"]
    assert entries[-1]["type"] == "comment_added" and entries[-1]["body"]["text_hash"] == shown["text_hash"]
    assert "blue paint" not in str(entries)


def test_a_viewer_may_not_comment_and_an_outsider_sees_nothing(app, admin, wallet_id, proposal):
    bob, path = proposal
    bob.post(f"{path}/comments", {"text": "Marker-Comment-5d1e"})
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    other = admin.post("/wallets/import", {"text": keys.descriptor(2, 2, first=3).to_string(),
                                           "name": "Other"}).get_json()["wallet"]
    eve = member(app, admin, other["id"], "admin", "Eve")

    refused = carol.post(f"{path}/comments", {"text": "me too"})
    hidden = [eve.get(f"{path}/comments"), eve.post(f"{path}/comments", {"text": "hi"})]

    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert [r.status_code for r in hidden] == [404, 404]
    assert not any("Marker-Comment" in r.get_data(as_text=True) for r in hidden)
    assert len(carol.get(f"{path}/comments").get_json()["comments"]) == 1


def test_a_bad_comment_gets_its_code_and_a_missing_proposal_404(admin, wallet_id, proposal):
    bob, path = proposal

    overlong = bob.post(f"{path}/comments", {"text": "z" * 2001})
    missing = bob.post(f"/wallets/{wallet_id}/proposals/999999/comments", {"text": "hello"})

    assert overlong.status_code == 400 and overlong.get_json()["error"]["code"] == "bad_comment"
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "proposal_not_found"


def test_the_wallet_room_hears_comment_added_without_the_text(app, admin, wallet_id, proposal):
    bob, path = proposal
    client = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=admin.client,
                                  headers={"Origin": ORIGIN})
    client.emit("join", {"wallet_id": wallet_id}, namespace=NAMESPACE, callback=True)
    client.get_received(NAMESPACE)

    comment = bob.post(f"{path}/comments", {"text": "Secret-ish remark"}).get_json()["comment"]

    events = [m["args"][0] for m in client.get_received(NAMESPACE) if m["name"] == "event"]
    assert [e["type"] for e in events] == ["comment_added"]
    assert events[0]["data"] == {"wallet_id": wallet_id, "proposal": comment["proposal"], "comment": comment["id"],
                                 "user": bob.user["id"]}
    assert "Secret-ish" not in str(events)
