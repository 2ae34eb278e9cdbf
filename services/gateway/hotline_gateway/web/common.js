// Shared by the pages: the REST client (session cookie + CSRF header), the message catalogue
// (English, Simplified Chinese), the push stream with resume, and formatting. Plain ES module.

export const LOCALES = ["en", "zh-CN"];
let catalogue = {};
let locale = "en";

// ---------------------------------------------------------------- REST

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", "X-Requested-With": "fetch" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Who is signed in (GET /v1/session); sends the browser to the sign-in page when nobody. */
export async function requireSession() {
  try {
    return await api("/v1/session");
  } catch (err) {
    if (err.status === 401) {
      location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
      return new Promise(() => {});
    }
    throw err;
  }
}

export async function signOut() {
  try { await api("/v1/session", { method: "DELETE" }); } finally { location.assign("/login/"); }
}

// ---------------------------------------------------------------- messages

function storageKey(me) {
  return me ? `hotline.locale.${me.tenant_id || "operator"}/${me.id}` : "hotline.locale";
}

/** The user's language: the switch's last choice (per user), else the user's preference from
 *  the session, else the browser's languages (Accept-Language), else English. */
export function chooseLocale(me) {
  const stored = localStorage.getItem(storageKey(me));
  if (LOCALES.includes(stored)) return stored;
  if (me && LOCALES.includes(me.locale)) return me.locale;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export async function loadMessages(wanted) {
  locale = LOCALES.includes(wanted) ? wanted : "en";
  const response = await fetch(`/web/i18n/${locale}.json`, { credentials: "same-origin" });
  catalogue = await response.json();
  document.documentElement.lang = locale;
  return locale;
}

export function currentLocale() { return locale; }

/** The catalogue's text for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = catalogue[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Fill every [data-i18n] element's text and [data-i18n-attr] ("attr:key;attr:key") under root. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = t(title.dataset.i18n);
}

/** Wire a <select> to switch language; remembers the choice for this user. */
export function languageSwitch(select, me, onChange) {
  select.replaceChildren(...LOCALES.map((code) => {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = code === "en" ? "English" : "简体中文";
    option.lang = code;
    return option;
  }));
  select.value = locale;
  select.addEventListener("change", async () => {
    localStorage.setItem(storageKey(me), select.value);
    await loadMessages(select.value);
    translate();
    onChange();
  });
}

// ---------------------------------------------------------------- formatting

export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function percent(value) {
  if (value === null || value === undefined) return "–";
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 })
    .format(value);
}

export function seconds(value) {
  if (value === null || value === undefined) return "–";
  return t("unit.seconds", { n: new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value) });
}

export function stateLabel(state) { return t(`state.${state}`); }

/** A not-ready reason's or disposition's label: the catalogue's, else the tenant's, else the code. */
export function codeLabel(kind, code, configured = []) {
  if (!code) return "";
  const key = `${kind}.${code}`;
  if (catalogue[key] !== undefined) return catalogue[key];
  const found = configured.find((c) => c.code === code);
  return (found && found.label) || code;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// ---------------------------------------------------------------- push stream

/** The header's connection indicator: a LiveStream `status` handler; `.refresh()` shows the
 *  last status again (after a language switch). */
export function connectionStatus(node) {
  let last = ["down", 0, ""];
  const show = () => {
    const [state, code, reason] = last;
    node.className = state === "live" ? "status-live" : "status-down";
    node.textContent = state === "live" ? t("common.live")
      : code === 4403 || code === 4401 ? `${t("common.refused")}: ${reason}`
        : t("common.reconnecting");
  };
  const handler = (state, code = 0, reason = "") => { last = [state, code, reason]; show(); };
  handler.refresh = show;
  return handler;
}

/** The gateway's WebSocket (one per page), resumed after a drop from the last sequence number
 *  seen: the server sends the changes missed, or a snapshot when they are no longer kept.
 *  `handlers`: snapshot(msg), change(msg), status("live" | "down"), clock(offsetMs). */
export class LiveStream {
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.seq = null;
    this.epoch = null;
    this.retry = 500;
    this.closed = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const resume = this.seq === null ? "" : `?after=${this.seq}&epoch=${this.epoch}`;
    return `${scheme}://${location.host}${this.path}${resume}`;
  }

  start() {
    const socket = new WebSocket(this.url(), ["hotline.v1"]);
    this.socket = socket;
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      this.handlers.status("down", event.code, event.reason);
      if (this.closed || event.code === 4401 || event.code === 4403) return;
      setTimeout(() => this.start(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  receive(msg) {
    if (msg.server_ms) this.handlers.clock(msg.server_ms - Date.now());
    if (msg.type === "hello") {
      this.epoch = msg.epoch;
      this.retry = 500;
      this.handlers.status("live");
      return;
    }
    if (msg.type === "snapshot") {
      this.seq = msg.seq;
      this.handlers.snapshot(msg);
      return;
    }
    if (msg.type === "ping") return;
    if (typeof msg.seq === "number") {
      if (this.seq !== null && msg.seq <= this.seq) return; // seen already
      this.seq = msg.seq;
    }
    this.handlers.change(msg);
  }

  stop() { this.closed = true; if (this.socket) this.socket.close(); }
}

/** The live model a page keeps: per tenant, agents / queues / offers by key. */
export class LiveModel {
  constructor() { this.tenants = new Map(); this.clockOffset = 0; }

  load(snapshot) {
    this.tenants.clear();
    for (const tenant of snapshot.tenants) {
      this.tenants.set(tenant.tenant_id, {
        id: tenant.tenant_id, name: tenant.name, notReadyReasons: tenant.not_ready_reasons,
        queueIds: tenant.queue_ids || [],
        agent: new Map(tenant.agents.map((a) => [a.agent_id, a])),
        queue: new Map(tenant.queues.map((q) => [q.queue_id, q])),
        offer: new Map(tenant.offers.map((o) => [o.interaction_id, o])),
      });
    }
  }

  apply(change) {
    const tenant = this.tenants.get(change.tenant_id);
    if (!tenant || !tenant[change.type]) return;
    if (change.type === "offer" && change.data.status === "ended") tenant.offer.delete(change.key);
    else tenant[change.type].set(change.key, change.data);
  }

  now() { return Date.now() + this.clockOffset; }
}
