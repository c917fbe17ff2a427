"""Live sign requests, end to end over loopback: the test plays the server (a real
Socket.IO server on werkzeug, agent_server.ServerSide), the agent is `huddle agent
run`'s own client (connection.run with sign_request.Responder) and a software
device. A good request comes back signed with ONLY the device's new signatures;
each forged or stale one is refused with its code before the device is asked."""

from __future__ import annotations

import base64
import dataclasses
import threading

import pytest
from embit.psbt import PSBT
from hwilib.errors import ActionCanceledError

from coordinator.governance import agent_keys
from coordinator.hw import connection
from coordinator.hw.agent_key import load_or_create
from coordinator.hw.heads import HeadStore
from coordinator.hw.pinned import PinStore
from coordinator.hw.sign_request import Responder
from coordinator.psbt.status import status

from .. import keys
from ..psbt import chain
from ..psbt.test_checks import (CORPUS, add_xpub, make, other_coin, other_net, remove_xpub, retag_paths, swap_xpub,
                                with_version)
from .agent_server import Group, ServerSide
from .software_device import LedgerShell, SoftwareDevice, SoftwareFactory

ME = 2  # the agent's user; its device holds seed 1 (cosigner slot 1)


class Running:
    """The agent, connected to the test's server, signing with its software device."""

    def __init__(self, tmp_path, group: Group, server: ServerSide, *, clock=None, seed: int = 1, tamper=None,
                 timeout: float = 30, roster: bool = True, device=None, known_id: bool = True) -> None:
        self.store = PinStore(tmp_path / "agent")
        if roster:  # known_id False: confirmed before the server made the wallet
            self.store.pin_roster("family", group.roster, group.wallet_id if known_id else None)
        else:  # `huddle agent pin FILE`: the descriptor alone
            self.store.pin("family", group.network, group.descriptor)
        self.device = device or SoftwareDevice(seed, tamper=tamper)
        self.lines: list[str] = []
        self.responder = Responder(self.store, ME, load_or_create(self.store.root),
                                   lambda network: SoftwareFactory(self.device), self.lines.append, timeout=timeout)
        if clock is not None:
            self.responder.clock = clock
        self.stop = threading.Event()
        self.thread = threading.Thread(target=connection.run, daemon=True, args=(
            server.link(), self.lines.append, self.stop), kwargs={
            "on_request": self.responder, "on_connect": self.responder.on_connect, "backoff": (0.2,)})
        self.thread.start()
        self.sid = server.sids.get(timeout=20)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=15)


@pytest.fixture
def server():
    side = ServerSide(user=ME)
    yield side
    side.stop()


def ask(tmp_path, server, group, request, **kw):
    agent = Running(tmp_path, group, server, **kw)
    try:
        server.send(agent.sid, request)
        seen, result = server.until_result()
    finally:
        agent.close()
    return agent, seen, result


def refusal(tmp_path, server, group, request, **kw) -> str:
    agent, seen, result = ask(tmp_path, server, group, request, **kw)
    assert agent.device.calls == []  # refused before the device was asked anything
    assert [name for name, _ in seen if name == "sign_step"] == []
    assert result["request_id"] == request["request_id"] and result["proposal_id"] == request["proposal_id"]
    return result["refused"]["code"]


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("m,n", [(2, 3), (3, 5)])
def test_a_good_request_comes_back_with_only_the_devices_new_signatures(tmp_path, server, script_type, m, n):
    group = Group(m, n, script_type, threshold=2)
    unsigned = group.psbt()
    already = chain.sign(PSBT.parse(unsigned), [0], True, script_type).serialize()  # member 1 signed first
    intent = group.intent(unsigned)
    group.append("signature_added", {"proposal": 7, "input": 0, "pubkey": "00", "user": 1, "channel": "agent"})
    request = group.request(already, intent, signed_heads=[group.signed_head(1)],
                            fingerprint=keys.fingerprint(1))

    agent, seen, result = ask(tmp_path, server, group, request)

    returned = PSBT.parse(base64.b64decode(result["psbt"]))
    mine = {group.descriptor.cosigners[1].child_pubkey(0, i) for i in (0, 1)}
    assert [{pub.sec() for pub in scope.partial_sigs} for scope in returned.inputs] == [
        {group.descriptor.cosigners[1].child_pubkey(0, 0)}, {group.descriptor.cosigners[1].child_pubkey(0, 1)}]
    assert set().union(*([pub.sec() for pub in s.partial_sigs] for s in returned.inputs)) == mine
    assert [c.fingerprint for c in status(returned, group.descriptor).cosigners if c.done] == [keys.fingerprint(1)]
    for scope in returned.inputs:  # apart from the signatures, exactly the PSBT the server sent
        scope.partial_sigs.clear()
    assert returned.serialize() == unsigned
    assert agent.device.calls[-2:] == ["sign_tx", "close"]
    assert f"The server took the result ({len(returned.inputs)} signature(s) added)" in agent.lines
    steps = [data for name, data in seen if name == "sign_step"]
    assert [step["step"] for step in steps] == ["device_ready", "reviewing", "signed"]
    assert steps[0]["device"] == {"type": "software", "fingerprint": keys.fingerprint(1)}
    assert {step["request_id"] for step in steps} == {"req-1"} and {step["proposal_id"] for step in steps} == {7}
    # the head sent before signing; the seq-0 head of the connect is an emit without an ack, and the
    # test server handles each event in its own thread, so it may be recorded after this one
    head = max((data for name, data in seen if name == "head"), key=lambda data: data["seq"])
    last = group.entries[-1]
    assert (head["wallet_id"], head["seq"], head["hash"]) == (1, last.seq, last.hash)
    assert agent_keys.verify(load_or_create(agent.store.root).public, "head",
                             agent_keys.head_body(1, last.seq, last.hash), head["signature"])


def test_a_policy_this_agent_never_pinned_is_refused_not_pinned(tmp_path, server):
    group, other = Group(), Group(2, 3, "sh-wsh")
    psbt = other.psbt()
    request = group.request(psbt, other.intent(psbt), approvals=other.approvals(other.intent(psbt), (1, 3)))
    assert refusal(tmp_path, server, group, request) == "not_pinned"


def test_a_psbt_of_a_foreign_descriptor_under_the_pinned_policy_id_is_refused(tmp_path, server):
    group = Group()
    psbt = make(keys.descriptor(2, 3, True, "wsh", first=4)).serialize()
    intent = group.intent(group.psbt())
    request = group.request(psbt, intent)
    assert refusal(tmp_path, server, group, request) == "xpub_mismatch"


def test_a_descriptor_the_server_sends_that_is_not_the_pinned_one_is_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    request = group.request(psbt, group.intent(psbt))
    request["descriptor"] = keys.descriptor(2, 3, True, "wsh", first=4).to_string()
    assert refusal(tmp_path, server, group, request) == "descriptor_mismatch"


@pytest.mark.parametrize("tamper", [swap_xpub, add_xpub, remove_xpub], ids=["swapped", "an extra", "one missing"])
def test_a_psbt_whose_global_xpubs_differ_from_the_pinned_ones_is_refused(tmp_path, server, tamper):
    group = Group()
    psbt = PSBT.parse(group.psbt())
    intent = group.intent(psbt.serialize())
    tamper(psbt, group.descriptor)  # issue 12's added case: the xpubs a Trezor would trust, not the pinned ones
    assert refusal(tmp_path, server, group, group.request(psbt.serialize(), intent)) == "xpub_mismatch"


def _xpubs_of_the_other_network(psbt, group):
    with_version(psbt, other_net(group.descriptor))


def _paths_of_the_other_coin(psbt, group):
    retag_paths(psbt.inputs[0].bip32_derivations, 1, other_coin(group.descriptor))


@pytest.mark.parametrize("tamper", [_xpubs_of_the_other_network, _paths_of_the_other_coin],
                         ids=["mainnet global xpubs", "mainnet coin type in the input paths"])
def test_a_psbt_for_another_network_is_refused(tmp_path, server, tamper):
    group = Group()  # pinned on testnet
    psbt = PSBT.parse(group.psbt())
    intent = group.intent(psbt.serialize())
    tamper(psbt, group)
    assert refusal(tmp_path, server, group, group.request(psbt.serialize(), intent)) == "wrong_network"


def test_an_intent_for_another_network_than_the_pinned_one_is_refused(tmp_path, server):
    group = Group()  # pinned on testnet; the server says the spend is on mainnet
    psbt = group.psbt()
    intent = dataclasses.replace(group.intent(psbt), network="mainnet")
    request = group.request(psbt, intent, approvals=group.approvals(intent, (1, 3)))
    assert refusal(tmp_path, server, group, request) == "intent_mismatch"


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_a_changed_recipient_is_refused_intent_mismatch(tmp_path, server, script_type):
    group = Group(script_type=script_type)
    approved = group.intent(group.psbt())
    changed = group.psbt(pay=6_000_000, change=1_990_000)  # another amount to the recipient
    assert refusal(tmp_path, server, group, group.request(changed, approved)) == "intent_mismatch"


def test_a_memo_other_than_the_approved_one_is_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    request = group.request(psbt, group.intent(psbt, memo="rent"), memo="rent (and a gift to Mallory)")
    assert refusal(tmp_path, server, group, request) == "memo_mismatch"


def test_an_intent_expired_by_the_agents_own_clock_is_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    intent = group.intent(psbt, expires_at=1_900_000_000)
    request = group.request(psbt, intent)
    assert refusal(tmp_path, server, group, request, clock=lambda: 1_900_000_001) == "intent_expired"


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_a_fee_over_the_approved_ceiling_is_refused(tmp_path, server, script_type):
    group = Group(script_type=script_type)
    psbt = group.psbt()  # pays 10,000 sat in fees
    request = group.request(psbt, group.intent(psbt, fee_ceiling=9_999))
    assert refusal(tmp_path, server, group, request) == "intent_fee_over_ceiling"


@pytest.mark.parametrize("approvers", [(1,), (1, 1), (1, 9)], ids=["one of two", "replayed", "a non-member"])
def test_a_missing_quorum_is_refused(tmp_path, server, approvers):
    group = Group(threshold=2)
    psbt = group.psbt()
    intent = group.intent(psbt)
    approvals = group.approvals(intent, approvers)
    assert refusal(tmp_path, server, group, group.request(psbt, intent, approvals=approvals)) == "quorum_not_met"


def test_an_approval_of_another_intent_does_not_count(tmp_path, server):
    group = Group(threshold=2)
    psbt = group.psbt()
    intent = group.intent(psbt)
    other = group.intent(psbt, memo="another memo")
    approvals = group.approvals(intent, (1,)) + group.approvals(other, (3,))
    assert refusal(tmp_path, server, group, group.request(psbt, intent, approvals=approvals)) == "quorum_not_met"


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_history_rewritten_since_the_agents_head_is_refused(tmp_path, server, script_type):
    group = Group(script_type=script_type)
    psbt = group.psbt()
    intent = group.intent(psbt)
    group.append("proposal_created", {"proposal": 7})
    store = PinStore(tmp_path / "agent")
    store.pin_roster("family", group.roster, group.wallet_id)
    HeadStore(store).advance(store.get("family"), [e.to_dict() for e in group.entries])  # the agent saw 1..2

    rewritten = Group(script_type=script_type)  # the same wallet, another history: entry 2 is not the one the agent saw
    rewritten.append("proposal_created", {"proposal": 8})
    rewritten.append("proposal_created", {"proposal": 7})
    assert refusal(tmp_path, server, group, rewritten.request(psbt, intent)) == "history_rewritten"


def test_a_request_without_any_history_is_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    request = group.request(psbt, group.intent(psbt))
    request["audit"], request["audit_head"] = [], {"seq": 0, "hash": "00" * 32}
    assert refusal(tmp_path, server, group, request) == "history_rewritten"


def test_entries_short_of_the_announced_head_are_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    group.append("proposal_created", {"proposal": 7})
    request = group.request(psbt, group.intent(psbt))
    request["audit"] = request["audit"][:1]
    assert refusal(tmp_path, server, group, request) == "history_rewritten"


def test_a_signed_head_that_does_not_verify_is_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    forged = group.signed_head(1, key_of=3)  # "user 1's" head, signed with user 3's agent key
    request = group.request(psbt, group.intent(psbt), signed_heads=[forged])
    assert refusal(tmp_path, server, group, request) == "signed_head_invalid"


def test_a_signed_head_on_another_history_is_refused_as_a_fork(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    group.append("proposal_created", {"proposal": 7})
    elsewhere = Group()
    elsewhere.append("proposal_created", {"proposal": 99})  # what the server showed user 1
    request = group.request(psbt, group.intent(psbt), signed_heads=[elsewhere.signed_head(1)])
    assert refusal(tmp_path, server, group, request) == "history_forked"


def test_a_signed_head_ahead_of_the_history_the_agent_was_shown_is_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    intent = group.intent(psbt)
    group.append("proposal_created", {"proposal": 7})
    ahead = group.signed_head(1)
    request = group.request(psbt, intent, signed_heads=[ahead])
    request["audit"], request["audit_head"] = request["audit"][:1], {"seq": 1, "hash": group.entries[0].hash}
    assert refusal(tmp_path, server, group, request) == "history_forked"


def test_a_request_for_a_device_that_is_not_a_cosigner_never_reaches_it(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    request = group.request(psbt, group.intent(psbt), fingerprint=keys.fingerprint(7))
    assert refusal(tmp_path, server, group, request) == "device_not_cosigner"


def test_a_request_naming_another_wallet_than_its_chain_is_refused(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    request = group.request(psbt, group.intent(psbt))
    request["wallet_id"] = 2  # the entries are of chain wallet:1
    assert refusal(tmp_path, server, group, request) == "bad_sign_request"  # pinned as wallet 1
    assert refusal(tmp_path / "unknown", server, group, request, known_id=False) == "bad_sign_request"
    assert PinStore(tmp_path / "unknown" / "agent").get("family").wallet_id is None  # not learnt from it


def test_an_agent_that_confirmed_before_the_wallet_existed_learns_its_id_from_its_chain(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    agent, seen, result = ask(tmp_path, server, group, group.request(psbt, group.intent(psbt)), known_id=False)
    assert "psbt" in result and PinStore(tmp_path / "agent").get("family").wallet_id == group.wallet_id


def test_a_malformed_request_is_refused_with_its_ids(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    request = group.request(psbt, group.intent(psbt))
    request["approvals"] = "all of them"
    assert refusal(tmp_path, server, group, request) == "bad_sign_request"


def test_a_roster_change_m_keyholders_signed_in_the_chain_is_followed(tmp_path, server):
    group = Group(threshold=2)
    psbt = group.psbt()
    intent = group.intent(psbt)
    new = group.change_roster(3, confirmers=(1, 3))  # 2 of 3 keyholders: the wallet's M
    request = group.request(psbt, intent, approvals=group.approvals(intent, (1, 3)))

    assert refusal(tmp_path, server, group, request) == "quorum_not_met"  # 2 approvals, the new roster needs 3
    assert PinStore(tmp_path / "agent").get("family").roster == new


@pytest.mark.parametrize("confirmers", [(1,), (1, 1), (1, 9)], ids=["one of two", "twice", "a stranger"])
def test_a_roster_change_without_m_pinned_confirmations_is_not_followed(tmp_path, server, confirmers):
    group = Group(threshold=2)
    psbt = group.psbt()
    intent = group.intent(psbt)
    before = group.roster
    group.change_roster(0, confirmers=confirmers)
    request = group.request(psbt, intent)

    assert refusal(tmp_path, server, group, request) == "roster_change_unverified"
    assert PinStore(tmp_path / "agent").get("family").roster == before


def _steps(seen) -> list[str]:
    return [data["step"] for name, data in seen if name == "sign_step"]


def test_a_spend_declined_on_the_device_is_reported_step_by_step(tmp_path, server):
    def decline(psbt):
        raise ActionCanceledError("the cross was pressed")

    group = Group()
    psbt = group.psbt()
    agent, seen, result = ask(tmp_path, server, group, group.request(psbt, group.intent(psbt)), tamper=decline)

    assert _steps(seen) == ["device_ready", "reviewing", "declined"]
    declined = [data for name, data in seen if name == "sign_step"][-1]
    assert declined["reason"].startswith("device_declined: ")
    assert result["refused"]["code"] == "device_declined" and "psbt" not in result


def test_a_device_that_does_not_answer_in_time_is_given_up_on(tmp_path, server):
    released = threading.Event()

    def stuck(psbt):  # waiting for a button nobody presses
        released.wait(30)

    group = Group()
    psbt = group.psbt()
    try:
        agent, seen, result = ask(tmp_path, server, group, group.request(psbt, group.intent(psbt)), tamper=stuck,
                                  timeout=0.5)
    finally:
        released.set()
    assert _steps(seen) == ["device_ready", "reviewing", "declined"]
    assert result["refused"]["code"] == "device_timeout"


def test_a_wallet_pinned_without_a_roster_is_not_signed_for_live(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    request = group.request(psbt, group.intent(psbt))
    assert refusal(tmp_path, server, group, request, roster=False) == "agent_roster_missing"


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_the_adversarial_corpus_sent_as_sign_requests_never_reaches_the_device(tmp_path, server, script_type):
    group = Group(script_type=script_type)
    base = PSBT.parse(group.psbt())
    intent = group.intent(base.serialize())
    agent = Running(tmp_path, group, server)
    try:
        for i, (code, what, tamper) in enumerate(CORPUS):
            psbt = PSBT.parse(base.serialize())
            tamper(psbt, group.descriptor)
            server.send(agent.sid, group.request(psbt.serialize(), intent, request_id=f"corpus-{i}"))
            seen, result = server.until_result()
            assert result["request_id"] == f"corpus-{i}", what
            assert result["refused"]["code"] == code, what
            assert not [name for name, _ in seen if name == "sign_step"], what
    finally:
        agent.close()
    assert agent.device.calls == []  # not one of them reached the device


def test_a_ledger_registers_the_wallet_once_and_signs_every_request_with_the_stored_hmac(tmp_path, server):
    group = Group()
    ledger = LedgerShell(1)
    agent = Running(tmp_path, group, server, device=ledger)
    try:
        for i in range(2):
            psbt = group.psbt()
            server.send(agent.sid, group.request(psbt, group.intent(psbt), request_id=f"ledger-{i}"))
            seen, result = server.until_result()
            returned = PSBT.parse(base64.b64decode(result["psbt"]))
            done = [c.fingerprint for c in status(returned, group.descriptor).cosigners if c.done]
            assert done == [ledger.fingerprint]
    finally:
        agent.close()
    assert ledger.client.registered == ["family"]  # once: the HMAC is kept and passed back
    assert len(ledger.client.signed) == 2 and len(set(ledger.client.signed)) == 1


def test_on_connecting_the_agent_sends_its_signed_head_and_seq_0_before_it_has_one(tmp_path, server):
    group = Group()
    psbt = group.psbt()
    agent = Running(tmp_path, group, server)
    try:
        first = server.next("head")
        server.send(agent.sid, group.request(psbt, group.intent(psbt)))
        server.until_result()
    finally:
        agent.close()
    again = Running(tmp_path, group, server)
    try:
        second = server.next("head")
    finally:
        again.close()
    public = load_or_create(agent.store.root).public
    last = group.entries[-1]
    for head, (seq, digest) in ((first, (0, "00" * 32)), (second, (last.seq, last.hash))):
        assert (head["wallet_id"], head["seq"], head["hash"]) == (1, seq, digest)
        assert agent_keys.verify(public, "head", agent_keys.head_body(1, seq, digest), head["signature"])
