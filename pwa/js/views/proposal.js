// A proposal: what it pays (the intent: recipients' scripts and amounts, the
// fee ceiling, the memo's hash), who approved it, comments, and approving with
// a passkey whose challenge is the intent digest (docs/proposals.md).

import { get, post } from "../api.js";
import { formatAmount } from "../amounts.js";
import { field, form, h, problem, when } from "../dom.js";
import { atLeast, session } from "../session.js";
import { joinWallet, onWalletEvent } from "../socket.js";
import { getPasskey } from "../webauthn.js";
import { ceremonyPanel } from "./ceremony.js";
import { historyPanel } from "./history.js";

function who(member) {
  const me = session() && `user:${session().user.id}`;
  return member === me ? "you" : member.replace("user:", "member #");
}

// Recipients as addresses, the change and the fee come from the server's signer
// checks over the PSBT (the `summary`); the browser never parses a PSBT.
function summary(proposal, checked) {
  const intent = proposal.intent;
  return h("dl", { class: "summary" },
    h("dt", {}, "State"), h("dd", { id: "state" }, proposal.state),
    h("dt", {}, "Memo"), h("dd", { id: "memo" }, proposal.memo),
    h("dt", {}, "Pays"), h("dd", {}, h("ul", { id: "recipients" }, checked.recipients.map((r) =>
      h("li", {}, h("span", { class: "amount" }, formatAmount(r.amount)), " to ", h("code", { class: "address" }, r.address))))),
    h("dt", {}, "Change"), h("dd", { id: "change" }, checked.change.length ? h("ul", {}, checked.change.map((c) =>
      h("li", {}, formatAmount(c.amount), " back to the wallet's own change address ", h("code", {}, c.address),
        h("span", { class: "ok" }, " ✔ verified")))) : "none"),
    h("dt", {}, "Fee"), h("dd", { id: "fee", "data-sats": checked.fee },
      `${formatAmount(checked.fee)} · ${(checked.fee_rate / 1000).toFixed(1)} sat/vB · ${checked.vsize} vB`),
    h("dt", {}, "Fee at most"), h("dd", {}, formatAmount(intent.fee_ceiling)),
    h("dt", {}, "Proposed"), h("dd", {}, `${when(proposal.created_at)} by ${who(`user:${proposal.proposer}`)}`),
    h("dt", {}, "Expires"), h("dd", {}, when(proposal.expires_at)),
    h("dt", {}, "Intent digest"), h("dd", {}, h("code", { class: "digest" }, proposal.intent_digest)));
}

async function approve(base, status, refresh) {
  const { options } = await post(`${base}/approvals/options`);
  status.replaceChildren(h("p", {}, "Confirm with your passkey…"));
  const credential = await getPasskey(options);
  const answer = await post(`${base}/approvals`, { credential });
  status.replaceChildren(h("p", { class: "ok", id: "approved" }, `Approved. Approvals: ${answer.approved_by.length}.`));
  await refresh();
}

function approvals(base, approvedBy, canApprove, open, refresh) {
  const mine = session() && approvedBy.includes(`user:${session().user.id}`);
  return h("section", { class: "panel", id: "approvals" }, h("h2", {}, "Approvals"),
    approvedBy.length ? h("ul", {}, approvedBy.map((m) => h("li", {}, who(m)))) : h("p", { class: "muted" }, "None yet."),
    canApprove && open && !mine ? form({ id: "approve" }, [
      h("p", { class: "muted small" }, "Your passkey signs this proposal's intent digest. It proves you approved on this ",
        "server's page; your signer agent or device is what checks the transaction itself."),
      h("button", { type: "submit", class: "primary" }, "Approve with my passkey"),
    ], (_, status) => approve(base, status, refresh)) : null);
}

function comments(list) {
  return h("section", { class: "panel", id: "comments" }, h("h2", {}, "Comments"),
    list.length ? h("ul", { class: "comments" }, list.map((c) => h("li", {},
      h("p", {}, c.text), h("small", { class: "muted" }, `${who(c.member)} · ${when(c.created_at)}`))))
      : h("p", { class: "muted" }, "No comments yet."));
}

// Made once per screen, outside what live events redraw, so a redraw never
// throws away what someone is typing.
function commentForm(base, refresh) {
  const el = form({ id: "comment" }, [
    field("Comment", h("textarea", { name: "text", required: true, maxlength: 2000, rows: 2 })),
    h("button", { type: "submit" }, "Comment"),
  ], async (data) => {
    await post(`${base}/comments`, { text: String(data.get("text")) });
    el.reset();
    await refresh();
  });
  return el;
}

async function build(walletId, proposalId, refresh, trusted) {
  const base = `/wallets/${walletId}/proposals/${proposalId}`;
  const [shown, talk] = await Promise.all([get(base), get(`${base}/comments`)]);
  const open = shown.proposal.state === "open";
  const keyholder = atLeast(walletId, "keyholder");
  const me = session() ? session().user.id : null;
  const canCancel = open && (shown.proposal.proposer === me || atLeast(walletId, "admin"));
  return h("div", {},
    summary(shown.proposal, shown.summary),
    approvals(base, shown.approved_by, keyholder && trusted, open, refresh),
    comments(talk.comments),
    canCancel ? form({ id: "cancel" }, [h("button", { type: "submit", class: "danger" }, "Cancel this proposal")],
      async () => { await post(`${base}/cancel`); await refresh(); }) : null);
}

export async function proposalView({ id, pid }) {
  const walletId = Number(id);
  const proposalId = Number(pid);
  let body = null;
  const history = await historyPanel(walletId);
  const trusted = history.result.state !== "changed"; // no approving over a rewritten history
  // Redraw from the server after an action here or an event from the room.
  const refresh = async () => {
    try {
      const fresh = await build(walletId, proposalId, refresh, trusted);
      body.replaceWith(fresh);
      body = fresh;
    } catch (err) {
      body.prepend(problem(err));
    }
  };
  body = await build(walletId, proposalId, refresh, trusted);
  const base = `/wallets/${walletId}/proposals/${proposalId}`;
  const ceremony = await ceremonyPanel(walletId, proposalId).catch((err) => problem(err));
  const section = h("section", { "data-proposal": proposalId }, h("h1", {}, `Proposal ${proposalId}`), history.el, body,
    ceremony, atLeast(walletId, "keyholder") ? commentForm(base, refresh) : null);
  const stop = onWalletEvent((eventWallet, envelope) => {
    if (!section.isConnected) { stop(); return; }
    const about = envelope.data ? envelope.data.proposal : undefined;
    if (eventWallet === walletId && (about === proposalId || envelope.type === "resync")) refresh();
  });
  joinWallet(walletId).catch(() => {});
  return section;
}
