"""The wallet-setup ceremony through the Flask test client: the server admin
drafts a 2-of-3 wallet for three members, each fills their slot with their
device's key and confirms the first address the device showed, and the wallet
is then theirs, its chain rooted in the setup chain."""

from __future__ import annotations

from embit.descriptor import Descriptor
from embit.networks import NETWORKS

from .. import keys
from .conftest import member

SEEDS = (3, 4, 5)  # not the imported wallet's seeds (0..2)


def key_text(i: int) -> str:
    return f"[{keys.fingerprint(i)}/{keys.path(True, 'wsh')[2:]}]{keys.xpub(i)}"


def device_first_address() -> str:
    """As the devices compute it: embit's descriptor code, not Huddle's."""
    keys_ = ",".join(key_text(i) + "/0/*" for i in SEEDS)
    return Descriptor.from_string(f"wsh(sortedmulti(2,{keys_}))").derive(0).address(NETWORKS["regtest"])


def test_three_members_set_up_a_wallet_over_the_api(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "viewer", "Bob")
    carol = member(app, admin, wallet_id, "viewer", "Carol")
    people = (admin, bob, carol)
    created = admin.post("/drafts", {"name": "Roof fund", "script_type": "wsh", "threshold": 2,
                                     "slots": [p.user["id"] for p in people]})
    assert created.status_code == 201, created.get_json()
    draft_id = created.get_json()["draft"]["id"]
    assert created.headers["Huddle-Audit-Head"].startswith(f"setup:{draft_id} 1:")

    for position, (person, seed) in enumerate(zip(people, SEEDS)):
        filled = person.post(f"/drafts/{draft_id}/slots/{position}", {"key": key_text(seed)})
        assert filled.status_code == 200, filled.get_json()
    draft = bob.get(f"/drafts/{draft_id}").get_json()["draft"]
    assert draft["state"] == "confirming" and draft["first_address"] == device_first_address()

    for position, person in enumerate(people):
        confirmed = person.post(f"/drafts/{draft_id}/slots/{position}/confirm", {"address": device_first_address()})
        assert confirmed.status_code == 200, confirmed.get_json()
    draft = confirmed.get_json()["draft"]
    assert draft["state"] == "active"

    mine = {w["name"]: w for w in carol.get("/wallets").get_json()["wallets"]}
    assert mine["Roof fund"]["id"] == draft["wallet_id"] and mine["Roof fund"]["role"] == "keyholder"
    assert {w["name"]: w["role"] for w in admin.get("/wallets").get_json()["wallets"]}["Roof fund"] == "admin"
    genesis = carol.get(f"/wallets/{draft['wallet_id']}/audit").get_json()["entries"][0]
    assert genesis["type"] == "wallet_created" and genesis["body"]["setup"]["chain"] == f"setup:{draft_id}"


def test_over_the_api_a_slot_is_its_owners_and_the_address_must_match(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "viewer", "Bob")
    draft_id = admin.post("/drafts", {"name": "Roof fund", "script_type": "wsh", "threshold": 2,
                                      "slots": [admin.user["id"], bob.user["id"]]}).get_json()["draft"]["id"]

    taken = bob.post(f"/drafts/{draft_id}/slots/0", {"key": key_text(4)})
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (403, "not_slot_owner")
    early = bob.post(f"/drafts/{draft_id}/slots/1/confirm", {"address": device_first_address()})
    assert (early.status_code, early.get_json()["error"]["code"]) == (409, "setup_not_ready")

    admin.post(f"/drafts/{draft_id}/slots/0", {"key": key_text(3)})
    bob.post(f"/drafts/{draft_id}/slots/1", {"key": key_text(4)})
    # the 2-of-3 over seeds 3, 4, 5 is another wallet than this 2-of-2 over seeds 3, 4
    wrong = bob.post(f"/drafts/{draft_id}/slots/1/confirm", {"address": device_first_address()})
    assert (wrong.status_code, wrong.get_json()["error"]["code"]) == (400, "setup_address_mismatch")
    assert bob.get(f"/drafts/{draft_id}").get_json()["draft"]["slots"][1]["confirmed"] is False


def test_only_the_servers_admin_drafts_over_the_api(app, admin, wallet_id):
    bob = member(app, admin, wallet_id, "admin", "Bob")
    refused = bob.post("/drafts", {"name": "Mine", "script_type": "wsh", "threshold": 1,
                                   "slots": [bob.user["id"], admin.user["id"]]})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "forbidden")
