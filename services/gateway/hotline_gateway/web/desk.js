// The agent desktop: the agent's state (reason, time in it) and its commands, the contact
// offered with its screen-pop (who is calling, their recent contacts on every channel, queue,
// wait, IVR choice), hold, resume and transfer of the connected call, wrap-up with the queue's
// dispositions and a "resolved" flag, the agent's queues and figures today. State and offers arrive over the push stream; commands are the
// REST API's (the session cookie + X-Requested-With).
import {
  LiveModel, LiveStream, api, chooseLocale, connectionStatus, codeLabel, duration, el, languageSwitch,
  loadMessages, requireSession, signOut, stateLabel, t, translate,
} from "./common.js";

const DEFAULT_REASONS = ["break", "lunch", "training", "meeting"];
const model = new LiveModel();
const $ = (id) => document.getElementById(id);
let me = null;
let tenantId = "";
let agentId = "";
let shownOffer = "";   // interaction id whose screen-pop is on screen
let history = null;    // {interactionId, contacts | error}
let scheduled = false;

function tenant() { return model.tenants.get(tenantId); }
function myAgent() { const tn = tenant(); return tn && tn.agent.get(agentId); }
function myOffer() {
  const tn = tenant();
  if (!tn) return null;
  const mine = [...tn.offer.values()].filter((o) => o.agent_id === agentId && o.status !== "ended");
  return mine.sort((a, b) => b.offered_ms - a.offered_ms)[0] || null;
}

async function command(path, body) {
  $("command-error").textContent = "";
  try {
    await api(`/v1/tenants/${encodeURIComponent(tenantId)}/agents/${encodeURIComponent(agentId)}/${path}`,
      { method: "POST", body: body || {} });
  } catch (err) {
    $("command-error").textContent = `${t("desk.command_failed")}: ${err.message}`;
  }
}

async function callCommand(action, body) {
  // Hold, resume, transfer: the gateway records the command (202); what the call does comes
  // back over the push stream (the offer's `held`, or its end on a transfer).
  const offer = myOffer();
  if (!offer) return;
  $("command-error").textContent = "";
  try {
    await api(`/v1/tenants/${encodeURIComponent(tenantId)}/interactions/`
      + `${encodeURIComponent(offer.interaction_id)}/${action}`, { method: "POST", body });
  } catch (err) {
    $("command-error").textContent = `${t("desk.command_failed")}: ${err.message}`;
  }
}

function renderCallControls(offer) {
  const voiceCall = offer && offer.status === "connected" && (!offer.channel || offer.channel === "voice");
  $("call-controls").hidden = !voiceCall;
  if (!voiceCall) return;
  $("hold").disabled = Boolean(offer.held);
  $("resume").disabled = !offer.held;
  const select = $("transfer-queue");
  const ids = (tenant()?.queueIds || []).filter((q) => q !== offer.queue_id);
  if (select.dataset.ids !== ids.join(",")) {
    const keep = select.value;
    select.replaceChildren(...ids.map((q) => el("option", { value: q, text: q })));
    if (ids.includes(keep)) select.value = keep;
    select.dataset.ids = ids.join(",");
  }
  select.disabled = !ids.length;
  $("transfer").disabled = !ids.length;
}

function renderState(now) {
  const agent = myAgent() || { state: "logged_out", since_ms: 0, reason_code: "" };
  const state = $("state");
  state.textContent = stateLabel(agent.state);
  state.className = `big state state-${agent.state}`;
  state.dataset.state = agent.state;
  $("reason").textContent = codeLabel("reason", agent.reason_code, tenant()?.notReadyReasons || []);
  $("in-state").textContent = agent.since_ms ? duration(now - agent.since_ms) : "–";
  const s = agent.state;
  $("log-in").disabled = s !== "logged_out";
  $("ready").disabled = s !== "not_ready";
  $("not-ready").disabled = !(s === "ready" || s === "not_ready");
  $("reason-code").disabled = $("not-ready").disabled;
  $("log-out").disabled = !(s === "ready" || s === "not_ready");
}

function reasonOptions() {
  const select = $("reason-code");
  const configured = tenant()?.notReadyReasons || [];
  const codes = configured.length ? configured.map((c) => c.code) : DEFAULT_REASONS;
  const keep = select.value;
  select.replaceChildren(...codes.map((code) =>
    el("option", { value: code, text: codeLabel("reason", code, configured) })));
  if (codes.includes(keep)) select.value = keep;
}

function detail(term, value, field) {
  if (value === "" || value === null || value === undefined) return [];
  return [el("dt", { text: term }), el("dd", { "data-field": field, text: value })];
}

function renderContact(now) {
  const offer = myOffer();
  const status = $("contact-status");
  const panel = $("contact-panel");
  const details = $("contact-details");
  const form = $("wrap-up");
  renderCallControls(offer);
  if (!offer) {
    status.textContent = t("desk.no_contact");
    panel.classList.remove("ringing");
    details.replaceChildren();
    form.hidden = true;
    panel.dataset.status = "none";
    return;
  }
  panel.dataset.status = offer.status;
  panel.classList.toggle("ringing", offer.status === "ringing");
  const channel = t(`channel.${offer.channel || "voice"}`);
  if (offer.status === "ringing") {
    // Voice rings the agent's phone: answering is picking it up, so no accept button here.
    status.textContent = offer.channel === "voice" || !offer.channel
      ? t("desk.ringing_voice") : t("desk.ringing_other", { channel });
  } else if (offer.status === "connected") {
    status.textContent = t(offer.held ? "desk.on_hold" : "desk.connected", { channel });
  } else {
    status.textContent = t("desk.wrapping_up");
  }
  const waited = offer.queued_ms
    ? duration((offer.answered_ms || offer.offered_ms || now) - offer.queued_ms) : "";
  const hints = (offer.identity_hints || []).map((h) => `${t(`identity.${h.kind}`)}: ${h.value}`);
  details.replaceChildren(
    ...detail(t("desk.customer"), offer.from_address, "customer"),
    ...detail(t("desk.identity"), hints.join(", "), "identity"),
    ...detail(t("desk.channel"), channel, "channel"),
    ...detail(t("desk.queue"), offer.queue_id, "queue"),
    ...detail(t("desk.waited"), waited, "waited"),
    ...detail(t("desk.ivr_choice"), offer.intent, "ivr"),
    ...detail(t("desk.language"), offer.language, "language"),
    ...detail(t("desk.dialled"), offer.to_address, "dialled"),
    ...(offer.status === "connected" && offer.answered_ms
      ? detail(t("desk.talk_time"), duration(now - offer.answered_ms), "talk") : []),
  );
  const wrapping = offer.status === "wrap_up" || myAgent()?.state === "wrap_up";
  if (wrapping && form.hidden) {
    const queue = tenant()?.queue.get(offer.queue_id);
    const codes = queue?.wrap_up_codes || [];
    // The queue's codes, one to choose; a queue with none: "other" (a disposition needs a code).
    $("disposition").replaceChildren(...(codes.length
      ? [el("option", { value: "", text: t("desk.choose_disposition") }),
        ...codes.map((c) => el("option", { value: c.code, text: codeLabel("disposition", c.code, codes) }))]
      : [el("option", { value: "other", text: t("desk.code_other") })]));
    $("resolved").checked = false;
    form.dataset.interaction = offer.interaction_id;
    form.hidden = false;
  } else if (!wrapping) {
    form.hidden = true;
  }
  if (shownOffer !== offer.interaction_id) {
    shownOffer = offer.interaction_id;
    loadHistory(offer);
  }
}

async function loadHistory(offer) {
  // The customer's recent contacts on every channel: the gateway answers for the agent the
  // contact is offered to (GET .../agents/{agent}/contacts/{interaction}/customer-contacts).
  history = { interactionId: offer.interaction_id, contacts: null };
  renderHistory();
  const path = `/v1/tenants/${encodeURIComponent(tenantId)}/agents/${encodeURIComponent(agentId)}`
    + `/contacts/${encodeURIComponent(offer.interaction_id)}/customer-contacts?limit=10`;
  try {
    const found = await api(path);
    if (history.interactionId === offer.interaction_id) history.contacts = found.items || [];
  } catch (err) {
    if (history.interactionId === offer.interaction_id) history.error = err.message;
  }
  renderHistory();
}

function renderHistory() {
  const box = $("history");
  if (!history) return;
  if (history.error) {
    box.replaceChildren(el("p", { class: "error", text: `${t("desk.history_failed")}: ${history.error}` }));
    return;
  }
  if (history.contacts === null) {
    box.replaceChildren(el("p", { class: "muted", text: t("desk.loading") }));
    return;
  }
  if (!history.contacts.length) {
    box.replaceChildren(el("p", { class: "muted", "data-field": "no-history", text: t("desk.first_contact") }));
    return;
  }
  const dates = new Intl.DateTimeFormat(document.documentElement.lang,
    { dateStyle: "medium", timeStyle: "short" });
  box.replaceChildren(el("table", {},
    el("caption", { class: "muted", text: t("desk.history_caption") }),
    el("thead", {}, el("tr", {}, ...["desk.when", "desk.channel", "desk.queue", "desk.outcome",
      "desk.disposition", "desk.resolved"].map((k) => el("th", { scope: "col", text: t(k) })))),
    el("tbody", {}, history.contacts.map((c) => el("tr", { "data-interaction": c.interaction_id },
      el("td", { text: c.arrived_at ? dates.format(new Date(c.arrived_at)) : "" }),
      el("td", { text: t(`channel.${c.channel}`) }),
      el("td", { text: c.queue_id || "–" }),
      el("td", { text: t(`outcome.${c.outcome}`) }),
      el("td", { text: c.disposition_code || "–" }),
      el("td", { text: c.resolved ? t("common.yes") : t("common.no") })))),
  ));
}

function renderQueues(now) {
  const tn = tenant();
  const queues = tn ? [...tn.queue.values()] : [];
  if (!queues.length) {
    $("queues").replaceChildren(el("p", { class: "muted", text: t("desk.no_queues") }));
    return;
  }
  $("queues").replaceChildren(el("table", {},
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: t("desk.queue") }),
      el("th", { scope: "col", class: "num", text: t("wallboard.waiting") }),
      el("th", { scope: "col", class: "num", text: t("wallboard.oldest_wait") }),
      el("th", { scope: "col", class: "num", text: stateLabel("ready") }))),
    el("tbody", {}, queues.map((q) => el("tr", { "data-queue": q.queue_id },
      el("th", { scope: "row", text: q.queue_id }),
      el("td", { class: "num", text: String(q.waiting) }),
      el("td", { class: "num", text: q.waiting ? duration(now - q.oldest_queued_ms) : "–" }),
      el("td", { class: "num", text: String(q.agents.ready || 0) })))),
  ));
}

function renderToday(now) {
  const agent = myAgent();
  const today = agent?.today || { state_ms: {}, answered: 0, handled: 0, talk_ms: 0, wrap_up_ms: 0 };
  const inState = agent && agent.since_ms && new Date(agent.since_ms).getUTCDate() === new Date(now).getUTCDate()
    ? now - agent.since_ms : 0;
  const spent = (s) => (today.state_ms[s] || 0) + (agent && agent.state === s ? inState : 0);
  const aht = today.handled ? duration((today.talk_ms + today.wrap_up_ms) / today.handled) : "–";
  $("today").replaceChildren(
    ...detail(t("desk.answered"), String(today.answered), "answered"),
    ...detail(t("desk.handled"), String(today.handled), "handled"),
    ...detail(t("desk.aht"), aht, "aht"),
    ...detail(stateLabel("ready"), duration(spent("ready")), "time-ready"),
    ...detail(stateLabel("not_ready"), duration(spent("not_ready")), "time-not-ready"),
    ...detail(t("desk.on_contacts"), duration(spent("busy") + spent("reserved") + spent("wrap_up")), "time-busy"),
  );
}

function render() {
  scheduled = false;
  const now = model.now();
  renderState(now);
  renderContact(now);
  renderQueues(now);
  renderToday(now);
}

function later() {
  if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
}

me = await requireSession();
tenantId = me.tenant_id;
agentId = me.agent_id;
await loadMessages(chooseLocale(me));
translate();
$("who").textContent = me.display_name;
const status = connectionStatus($("connection"));
languageSwitch($("language"), me, () => {
  status.refresh(); reasonOptions(); renderHistory(); render();
});
$("signout").addEventListener("click", signOut);
$("log-in").addEventListener("click", () => command("log-in"));
$("ready").addEventListener("click", () => command("ready"));
$("not-ready").addEventListener("click", () => command("not-ready", { reason_code: $("reason-code").value }));
$("log-out").addEventListener("click", () => command("log-out", { reason: "" }));
$("hold").addEventListener("click", () => callCommand("hold"));
$("resume").addEventListener("click", () => callCommand("resume"));
$("transfer").addEventListener("click", () => callCommand("transfer", { to_queue_id: $("transfer-queue").value }));
$("wrap-up").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = $("disposition").value;
  if (!code) {
    $("command-error").textContent = t("desk.disposition_needed");
    $("disposition").focus();
    return;
  }
  command("finish-wrap-up", {
    interaction_id: $("wrap-up").dataset.interaction,
    disposition: { code, resolved: $("resolved").checked, notes_ref: "" },
  });
});
if (!agentId) {
  $("command-error").textContent = t("desk.not_an_agent");
}
const stream = new LiveStream(`/v1/tenants/${encodeURIComponent(tenantId)}/stream`, {
  snapshot: (msg) => { model.load(msg); reasonOptions(); later(); },
  change: (msg) => { model.apply(msg); later(); },
  clock: (offset) => { model.clockOffset = offset; },
  status,
});
stream.start();
setInterval(later, 1000);
