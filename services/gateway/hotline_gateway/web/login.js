// The sign-in form: POST /v1/session (sets the session cookie), then the page asked for, or the
// user's page (agents: the desktop; everyone else: the wallboard).
import { api, chooseLocale, languageSwitch, loadMessages, t, translate } from "./common.js";

const form = document.getElementById("login");
const error = document.getElementById("error");

function target(me) {
  const next = new URLSearchParams(location.search).get("next");
  if (next && /^\/(desk|wallboard)\/$/.test(next)) return next;
  return me.agent_id ? "/desk/" : "/wallboard/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const body = {
    tenant: form.tenant.value.trim(),
    username: form.username.value.trim(),
    password: form.password.value,
  };
  if (!body.username || !body.password) {
    error.textContent = t("login.missing");
    return;
  }
  try {
    const me = await api("/v1/session", { method: "POST", body });
    location.assign(target(me));
  } catch (err) {
    error.textContent = err.status === 429 ? t("login.locked") : t("login.failed");
    form.password.value = "";
    form.password.focus();
  }
});

await loadMessages(chooseLocale(null));
translate();
languageSwitch(document.getElementById("language"), null, () => {});
form.tenant.focus();
