"""Address checks for a wallet set up at the ceremony (issue 12 Build 4): the server names
the member's slot, so the agent opens exactly that device; a keyholder with no slot in the
wallet has no device to show it on. The agents are the real `huddle agent` script, confirmed
at the setup (roster and server wallet id pinned), against the app on loopback."""

from __future__ import annotations

from coordinator.store import open_database, wallets

from .. import keys
from ..web.conftest import Browser
from .test_agent_ceremony import _set_up, world  # noqa: F401  (world is a fixture)


def test_the_server_names_the_members_slot_and_their_agent_shows_it_there(world):
    people, agents = world["people"], world["agents"]
    wallet_id, _ = _set_up(world)
    bob, agent = people[1], agents[1]
    agent.env["HUDDLE_AGENT_TEST_SEEDS"] = "0,1"  # Ada's device is plugged in too: the slot decides
    agent.env["HUDDLE_AGENT_TEST_LOG"] = str(agent.dir.parent / "bob-device.log")
    running = agent.run()
    try:
        running.wait_for("Connected to")
        asked = bob.browser.post(f"/wallets/{wallet_id}/address-checks", {"branch": "change", "index": 4})
        assert asked.status_code == 201, asked.get_json()
        line = running.wait_for("Shown on software")
        running.wait_for("The server's own derivation agrees")
    finally:
        running.interrupt()

    db = open_database(world["config"].database)
    descriptor = wallets.get(db, "Co-op").descriptor
    db.close()
    expected = descriptor.address(1, 4, "regtest")
    assert asked.get_json()["address"] == expected and f"Shown on software {keys.fingerprint(1)}" in line
    shown = (agent.dir.parent / "bob-device.log.shown").read_text().splitlines()
    assert shown == [f"{keys.fingerprint(1)} {keys.path(True, 'wsh')}/1/4 {expected}"]
    [check] = people[0].browser.get(f"/wallets/{wallet_id}/address-checks").get_json()["checks"]
    assert (check["outcome"], check["user"], check["fingerprint"]) == ("verified", bob.id, keys.fingerprint(1))


def test_a_keyholder_without_a_slot_in_the_wallet_is_refused(world):
    people = world["people"]
    wallet_id, _ = _set_up(world)
    invite = people[0].browser.post(f"/wallets/{wallet_id}/invites", {"role": "keyholder"}).get_json()["token"]
    dave = Browser(people[0].browser.client.application.test_client()).register("/invites", token=invite,
                                                                                  name="Dave")

    refused = dave.post(f"/wallets/{wallet_id}/address-checks", {"branch": "receive", "index": 0})

    assert (refused.status_code, refused.get_json()["error"]["code"]) == (422, "address_check_no_slot")
