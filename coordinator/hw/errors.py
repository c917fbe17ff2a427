"""Error codes of the signer agent (documented in docs/errors-agent.md).

Device problems are translated from HWI's errors where they enter (devices.py),
so a user reads what to do ("close Ledger Live"), never an HWI traceback.
"""

from ..errors import register

register({
    # finding and talking to a device
    "device_not_found": "no connected device has this fingerprint (a passphrase changes it)",
    "device_ambiguous": "several devices are connected; choose one with --device FINGERPRINT",
    "device_locked": "the device needs its PIN or passphrase first",
    "device_busy": "another program (Ledger Live, Trezor Suite, a wallet) holds the device",
    "device_app_closed": "the Ledger is connected but its Bitcoin app is not open",
    "udev_rules_missing": "no permission to open the USB device: install HWI's udev rules (Linux)",
    "libusb_missing": "libusb-1.0 is not installed, so Trezor and KeepKey cannot be reached",
    "device_timeout": "the device did not answer in time",
    "device_declined": "the request was declined on the device",
    "device_failed": "the device or HWI reported an error",
    # checking what the device did
    "device_not_cosigner": "the device's fingerprint is not one of the wallet's cosigners",
    "device_changed_psbt": "the device changed the PSBT beyond adding signatures",
    "device_address_mismatch": "the device showed another address than the pinned descriptor derives",
    "device_signed_nothing": "the device returned no new signature of its own",
    # Ledger's BIP-388 registration (ledger.py)
    "ledger_policy_renamed": "this Ledger has the wallet registered under another name; re-register knowingly",
    "ledger_registration_mismatch": "the Ledger registered another policy than the one sent",
    "ledger_registration_refused": "the Ledger refused the stored registration (reset, or another seed?)",
    # the audit head the agent remembers (heads.py)
    "history_rewritten": "the server's audit history no longer extends the head this agent saw; it refuses to sign",
    "history_forked": "another agent's signed head is not on this agent's chain: the server shows members "
                      "different histories",
    "signed_head_invalid": "another agent's signed head does not verify against its pinned agent key",
    # live sign requests (sign_request.py, request_checks.py)
    "bad_sign_request": "a sign request that is not what the agent protocol says (docs/agent.md)",
    "not_pinned": "the agent has pinned no wallet with the sign request's policy id",
    "agent_roster_missing": "the wallet has no pinned roster at this agent: confirm its setup first",
    "intent_mismatch": "the PSBT does not pay exactly the recipients and amounts of the intent the group approved",
    "memo_mismatch": "the memo sent does not hash to the intent's memo hash",
    "intent_expired": "the intent expired by this agent's own clock",
    "intent_fee_over_ceiling": "the PSBT's fee is above the fee ceiling of the intent the group approved",
    # the roster ceremony, approvals and roster changes at the agent (roster.py)
    "roster_not_ours": "the roster gives this agent's user no slot, or pins another agent key for them",
    "server_roster_mismatch": "what the server says of a roster (hash, safety code, first address) is not what "
                              "the agent computes",
    "roster_change_unverified": "the chain shows a roster change this agent cannot verify (M keyholder signatures, "
                                "the new roster)",
    "roster_change_stale": "the roster change does not start from the roster this agent pinned",
    "quorum_not_met": "fewer members approved this intent than the pinned roster's threshold",
    # the pinned wallets
    "descriptor_mismatch": "a descriptor sent to the agent differs from the one it pinned",
    "wallet_not_pinned": "the agent has no pinned wallet of this name",
    "wallet_pinned_differently": "a different wallet is already pinned under this name",
    "agent_dir_error": "the agent's config directory or a file in it cannot be read or written",
    "agent_not_ready": "huddle agent doctor found something missing",
    # pairing with a server (pairing.py)
    "insecure_server_url": "a server URL that is not https:// (plain http only for localhost)",
    "server_unreachable": "the Huddle server could not be reached",
    "server_refused": "the server answered with something other than Huddle's API",
    "not_paired": "this agent is not paired with a server yet: huddle agent pair URL",
    "already_paired": "this agent is already paired with a server; huddle agent unpair first",
})
