// Logging in with phone + one-time code (`POST /v1/auth/otp`, `POST /v1/auth/login`) and out
// (`POST /v1/auth/logout`). The tokens live in this origin's localStorage through /web/api.js;
// the phone number only in sessionStorage, to send the device-binding code to it later.

import { api, endSession } from "/web/api.js";
import { t } from "/web/i18n.js";
import { announce, busy, byId, showError } from "./dom.js";

const PHONE_KEY = "epermit.app.phone";

/** The phone this tab logged in with, if any. */
export function loggedInPhone() {
  return sessionStorage.getItem(PHONE_KEY) || "";
}

/** Counts the send button down until another code may be asked for. */
function coolDown(button, seconds) {
  let left = Math.max(0, Math.round(seconds));
  clearInterval(coolDown.timer);
  const tick = () => {
    if (left <= 0) {
      clearInterval(coolDown.timer);
      button.disabled = false;
      button.textContent = t("app.login.send");
      return;
    }
    button.disabled = true;
    button.textContent = t("app.login.resend_in", { seconds: left });
    left -= 1;
  };
  tick();
  coolDown.timer = setInterval(tick, 1000);
}

/** Asks for a code for `phone`: the answer, or throws the problem. Used by login and binding. */
export async function sendCode(phone, button) {
  try {
    const sent = await api("/v1/auth/otp", { method: "POST", body: { phone } });
    coolDown(button, sent.retry_after_secs);
    announce(t("app.login.sent", { minutes: Math.max(1, Math.round(sent.expires_in / 60)) }));
    return sent;
  } catch (err) {
    if (err.retryAfter) coolDown(button, err.retryAfter);
    throw err;
  }
}

/** Wires the login form; `onLoggedIn()` runs once tokens are stored. */
export function setUpLogin(sess, onLoggedIn) {
  const form = byId("login-form");
  const phone = byId("login-phone");
  const code = byId("login-code");
  const send = byId("login-send");
  const submit = byId("login-submit");
  const error = byId("login-error");
  send.addEventListener("click", async () => {
    showError(error, null);
    try {
      await sendCode(phone.value.trim(), send);
      byId("login-code-row").hidden = false;
      code.focus();
    } catch (err) {
      showError(error, err);
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(submit, error, async () => {
      const tokens = await api("/v1/auth/login", {
        method: "POST",
        body: { phone: phone.value.trim(), code: code.value.trim() },
      });
      sess.set(tokens);
      sessionStorage.setItem(PHONE_KEY, phone.value.trim());
      code.value = "";
      announce(t("app.login.done"));
      await onLoggedIn();
    });
  });
}

/** Ends this login on the service (best effort) and forgets it here. */
export async function logOut(sess) {
  sessionStorage.removeItem(PHONE_KEY);
  try {
    await endSession(sess);
  } catch {
    // This device is logged out whatever the service answered.
  }
  announce(t("app.logout.done"));
}
