"""Two `huddle serve` processes on one SQLite file (and, as an option, one
Redis): an event caused through one process reaches the members connected to
the other, once, in seq order, with no gap; so does an event committed by a
writer that never told anyone (a process killed after its commit, or the CLI).
docs/scaling.md."""

from __future__ import annotations

import httpx
import pytest

from coordinator.governance import comments
from coordinator.store import open_database

from ..web.conftest import admin, app, config, proposal, wallet_id  # noqa: F401  (fixtures)
from .servers import Member, serve, start_redis, stop


@pytest.fixture(params=["redis", "no redis"])
def message_queue(request, tmp_path):
    if request.param == "no redis":
        yield ""
        return
    proc, url = start_redis(tmp_path)
    yield url
    stop(proc)


@pytest.fixture
def two_servers(config, proposal, message_queue, tmp_path):
    """Servers A and B on the proposal's database."""
    started = [serve(config.database, tmp_path / name, message_queue) for name in ("a", "b")]
    yield [url for _, url in started]
    for proc, _ in started:
        stop(proc)


def _token(browser) -> str:
    made = browser.post("/tokens", {"scopes": ["agent"]})
    assert made.status_code == 201, made.get_json()
    return made.get_json()["secret"]


def _comment(url: str, token: str, path: str, text: str) -> dict:
    response = httpx.post(f"{url}/api/v1{path}/comments", json={"text": text},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["comment"]


def _comments_seen(member: Member, until_comment: int) -> list[tuple[int, int]]:
    """(seq, comment id) of the comment events, once the given comment has come."""
    events = member.wait_until(lambda got: any(e["data"].get("comment") == until_comment for e in got))
    return [(e["seq"], e["data"]["comment"]) for e in events if e["type"] == "comment_added"]


def test_comments_made_through_one_process_reach_members_on_the_other_once_in_order(
        two_servers, proposal, wallet_id):  # noqa: F811
    bob, path = proposal
    token = _token(bob)
    a, b = (Member(url, token) for url in two_servers)
    start = a.join(wallet_id)["events"][-1]["seq"]
    b.join(wallet_id)

    made = [_comment(two_servers[0], token, path, f"note {i}")["id"] for i in range(20)]

    expected = [(start + 1 + i, made[i]) for i in range(20)]
    assert _comments_seen(b, made[-1]) == expected
    assert _comments_seen(a, made[-1]) == expected
    for member in (a, b):
        seqs = [e["seq"] for e in member.events]
        assert seqs == list(range(1, seqs[-1] + 1))  # the room's whole history, once, in order
        member.close()


def test_a_change_committed_by_a_writer_that_never_published_still_reaches_every_process(
        two_servers, config, proposal, wallet_id):  # noqa: F811
    bob, path = proposal
    a, b = (Member(url, _token(bob)) for url in two_servers)
    a.join(wallet_id), b.join(wallet_id)

    db = open_database(config.database)  # commits and goes away, as if killed -9 before publishing
    added = comments.add(db, wallet_id, int(path.rsplit("/", 1)[1]), bob.user["id"], "from a dead process")
    db.close()

    for member in (a, b):
        assert _comments_seen(member, added.id)[-1][1] == added.id
        member.close()


def test_a_member_who_reconnects_to_the_other_process_gets_what_it_missed_once(
        two_servers, proposal, wallet_id):  # noqa: F811
    bob, path = proposal
    token = _token(bob)
    first = Member(two_servers[0], token)
    first.join(wallet_id)
    _comments_seen(first, _comment(two_servers[0], token, path, "before the drop")["id"])
    last = first.events[-1]["seq"]
    first.close()
    missed = [_comment(two_servers[0], token, path, f"while away {i}")["id"] for i in range(3)]

    again = Member(two_servers[1], token)
    answer = again.join(wallet_id, since=last)
    later = _comment(two_servers[0], token, path, "after the return")["id"]

    assert [e["data"]["comment"] for e in answer["events"]] == missed
    assert [c for _, c in _comments_seen(again, later)] == [*missed, later]
    assert [e["seq"] for e in again.events] == list(range(last + 1, last + 5))
    again.close()


def test_revoking_a_member_through_one_process_cuts_their_socket_on_the_other(
        config, proposal, admin, tmp_path):  # noqa: F811
    bob, _ = proposal
    redis, queue = start_redis(tmp_path)
    servers = [serve(config.database, tmp_path / name, queue) for name in ("a", "b")]
    try:
        on_b = Member(servers[1][1], _token(bob))
        assert on_b.sio.connected

        revoked = httpx.post(f"{servers[0][1]}/api/v1/users/{bob.user['id']}/revoke",
                             headers={"Authorization": f"Bearer {_token(admin)}"}, timeout=10)

        assert revoked.status_code == 200, revoked.text
        on_b.gone.wait(timeout=20)
        assert not on_b.sio.connected
    finally:
        for proc, _ in servers:
            stop(proc)
        stop(redis)


def test_a_signature_submitted_to_one_process_reaches_the_ceremony_room_on_the_other_once(
        two_servers, proposal, wallet_id):  # noqa: F811
    from ..sessions.ceremony_env import signed_by

    bob, path = proposal
    token, proposal_id = _token(bob), int(path.rsplit("/", 1)[1])
    a, b = (Member(url, token) for url in two_servers)
    for member in (a, b):
        member.join(wallet_id, proposal_id=proposal_id)
    psbt = bob.get(f"{path}/ceremony").get_json()["psbt"]

    sent = httpx.post(f"{two_servers[0]}/api/v1{path}/signatures", json={"psbt": signed_by(psbt, 1)},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert sent.status_code == 201, sent.text
    for member in (a, b):
        events = member.wait_until(lambda got: any(e["type"] == "signature_added" for e in got))
        assert [e["type"] for e in events].count("signature_added") == 1
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        member.close()


def test_a_process_killed_after_committing_a_signature_loses_nothing_its_neighbour_delivers_it(
        config, proposal, wallet_id, message_queue, tmp_path):  # noqa: F811
    """kill -9 between the commit and the answer (HUDDLE_FAULT=after_sig_insert): the
    process never told anyone, yet the member on the other process gets the event,
    once; the retry the submitter makes adds nothing and announces nothing."""
    from ..sessions.ceremony_env import signed_by

    bob, path = proposal
    token, proposal_id = _token(bob), int(path.rsplit("/", 1)[1])
    dying, url_a = serve(config.database, tmp_path / "a", message_queue, HUDDLE_FAULT="after_sig_insert")
    healthy, url_b = serve(config.database, tmp_path / "b", message_queue)
    try:
        watcher = Member(url_b, token)
        watcher.join(wallet_id, proposal_id=proposal_id)
        signed = signed_by(bob.get(f"{path}/ceremony").get_json()["psbt"], 1)

        with pytest.raises(httpx.HTTPError):  # no answer: the worker died after its commit
            httpx.post(f"{url_a}/api/v1{path}/signatures", json={"psbt": signed},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10).raise_for_status()
        events = watcher.wait_until(lambda got: any(e["type"] == "signature_added" for e in got))
        retry = httpx.post(f"{url_b}/api/v1{path}/signatures", json={"psbt": signed},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
        final = watcher.wait_until(lambda got: False, timeout=1)  # anything the retry might have sent

        assert [e["type"] for e in events].count("signature_added") == 1
        assert retry.status_code == 200 and retry.json()["added"] == 0
        assert final == events
        watcher.close()
    finally:
        stop(dying), stop(healthy)
