// The supervisor wallboard: for every tenant the user may see (a BPO operator: all of them),
// its queues (waiting, oldest wait, agents by state, service level today against target,
// abandonment rate, ASA; red when the target is missed), its sites (agents by state) and each
// agent's state and time in it. Fed by the gateway's push stream (one WebSocket).
import {
  LiveModel, LiveStream, chooseLocale, connectionStatus, codeLabel, duration, el, languageSwitch, loadMessages, percent,
  requireSession, seconds, signOut, stateLabel, t, translate,
} from "./common.js";

const STATES = ["ready", "not_ready", "reserved", "busy", "wrap_up"];
const main = document.getElementById("main");
const model = new LiveModel();
let scheduled = false;

function queueRow(q, now) {
  const missed = q.missed_target;
  const oldest = q.waiting ? duration(now - q.oldest_queued_ms) : "–";
  const target = percent(q.target);
  return el("tr", { class: missed ? "missed" : "", "data-queue": q.queue_id },
    el("th", { scope: "row" }, q.queue_id,
      missed ? el("span", { class: "flag", text: t("wallboard.below_target") }) : null),
    el("td", { class: "num", "data-field": "waiting", text: String(q.waiting) }),
    el("td", { class: "num", "data-field": "oldest", text: oldest }),
    ...STATES.map((s) => el("td", { class: "num", "data-field": `agents-${s}`, text: String(q.agents[s] || 0) })),
    el("td", { class: "num", "data-field": "service-level",
      text: `${percent(q.today.service_level)} / ${target}` }),
    el("td", { class: "num", "data-field": "abandon", text: percent(q.today.abandonment_rate) }),
    el("td", { class: "num", "data-field": "asa", text: seconds(q.today.asa_s) }),
  );
}

function queueTable(tenant, now) {
  const head = el("tr", {},
    el("th", { scope: "col", text: t("wallboard.queue") }),
    el("th", { scope: "col", class: "num", text: t("wallboard.waiting") }),
    el("th", { scope: "col", class: "num", text: t("wallboard.oldest_wait") }),
    ...STATES.map((s) => el("th", { scope: "col", class: "num", text: stateLabel(s) })),
    el("th", { scope: "col", class: "num", text: t("wallboard.service_level") }),
    el("th", { scope: "col", class: "num", text: t("wallboard.abandon_rate") }),
    el("th", { scope: "col", class: "num", text: t("wallboard.asa") }),
  );
  const rows = [...tenant.queue.values()].sort((a, b) => a.queue_id.localeCompare(b.queue_id))
    .map((q) => queueRow(q, now));
  return el("table", {},
    el("caption", { class: "muted", text: t("wallboard.queues_caption", { tenant: tenant.name }) }),
    el("thead", {}, head), el("tbody", {}, rows));
}

function siteTable(tenant) {
  const sites = new Map();
  for (const a of tenant.agent.values()) {
    if (a.state === "logged_out") continue;
    const counts = sites.get(a.site_id || "–") || Object.fromEntries(STATES.map((s) => [s, 0]));
    counts[a.state] = (counts[a.state] || 0) + 1;
    sites.set(a.site_id || "–", counts);
  }
  const rows = [...sites.entries()].sort().map(([site, counts]) => el("tr", { "data-site": site },
    el("th", { scope: "row", text: site }),
    ...STATES.map((s) => el("td", { class: "num", text: String(counts[s]) }))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 6, text: t("wallboard.no_agents") })));
  return el("table", {},
    el("caption", { class: "muted", text: t("wallboard.sites_caption") }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("wallboard.site") }),
      ...STATES.map((s) => el("th", { scope: "col", class: "num", text: stateLabel(s) })))),
    el("tbody", {}, rows));
}

function agentTable(tenant, now) {
  const agents = [...tenant.agent.values()].sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  const rows = agents.map((a) => el("tr",
    { "data-agent": a.agent_id, "data-state": a.state, "data-since": a.since_ms },
    el("th", { scope: "row", text: a.name }),
    el("td", { text: a.site_id || "–" }),
    el("td", { class: `state state-${a.state}`, "data-field": "state", text: stateLabel(a.state) }),
    el("td", { text: codeLabel("reason", a.reason_code, tenant.notReadyReasons) }),
    el("td", { class: "num", "data-field": "in-state",
      text: a.since_ms ? duration(now - a.since_ms) : "–" })));
  return el("table", {},
    el("caption", { class: "muted", text: t("wallboard.agents_caption") }),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: t("wallboard.agent") }),
      el("th", { scope: "col", text: t("wallboard.site") }),
      el("th", { scope: "col", text: t("wallboard.state") }),
      el("th", { scope: "col", text: t("wallboard.reason") }),
      el("th", { scope: "col", class: "num", text: t("wallboard.time_in_state") }))),
    el("tbody", {}, rows));
}

function render() {
  scheduled = false;
  const now = model.now();
  const sections = [...model.tenants.values()].map((tenant) => el("section",
    { class: "panel", "aria-labelledby": `tenant-${tenant.id}`, "data-tenant": tenant.id },
    el("h2", { id: `tenant-${tenant.id}`, class: "tenant-name", text: tenant.name }),
    queueTable(tenant, now),
    el("div", { class: "grid2" }, siteTable(tenant), agentTable(tenant, now))));
  main.replaceChildren(...sections);
}

function later() {
  if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
}

const me = await requireSession();
await loadMessages(chooseLocale(me));
translate();
document.getElementById("who").textContent = me.display_name;
const status = connectionStatus(document.getElementById("connection"));
languageSwitch(document.getElementById("language"), me, () => { status.refresh(); render(); });
document.getElementById("signout").addEventListener("click", signOut);
const path = me.all_tenants || me.tenants.length > 1 ? "/v1/stream"
  : `/v1/tenants/${encodeURIComponent(me.tenants[0] || me.tenant_id)}/stream`;
const stream = new LiveStream(path, {
  snapshot: (msg) => { model.load(msg); later(); },
  change: (msg) => { model.apply(msg); later(); },
  clock: (offset) => { model.clockOffset = offset; },
  status,
});
stream.start();
setInterval(later, 1000); // times in state and oldest waits move every second
