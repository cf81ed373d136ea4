// The permit card (`GET /v1/permits/me`): the permit's facts, the device binding of issue 6
// (challenge → engine.bindingMessage → WebCrypto signature + a one-time code →
// `PUT /v1/permits/me/holder-key`), the live QR, the static `EP1:` QR only as a labelled
// fallback, and the annual endorsement with its window (SPEC §1.4).

import { authed } from "/web/api.js";
import { t } from "/web/i18n.js";
import { announce, busy, byId, day, el, showError } from "./dom.js";
import { districtName } from "./districts.js";
import { canMakeKeys, deviceKey, hex, publicKeyHex, sign, storedKey } from "./device_key.js";
import { LiveQr, showSvg } from "./live_qr.js";
import { loggedInPhone, sendCode } from "./login.js";

let enginePromise = null;

/** The wasm engine, loaded once (null when it cannot load: the static QR is the fallback). */
export function engine() {
  enginePromise ??= import("/web/engine.js")
    .then((module) => module.loadEngine())
    .catch(() => null);
  return enginePromise;
}

let live = null;

/** Stops the live QR (leaving the card, logging out). */
export function stopLiveQr() {
  live?.stop();
  live = null;
}

const STATUS_ICONS = { active: "✔", suspended: "‖", revoked: "✖" };

function renderFacts(permit, me) {
  const rows = [
    ["app.permit.holder", me?.name || t("app.none")],
    ["app.permit.number", permit.number],
    ["app.permit.district", districtName(permit.district)],
    ["app.permit.issued_on", day(permit.issued_on)],
    ["app.permit.valid_until", day(permit.valid_until)],
  ];
  byId("permit-facts").replaceChildren(
    ...rows.flatMap(([key, value]) => [el("dt", {}, t(key)), el("dd", {}, value)]),
  );
  const status = byId("permit-status");
  status.className = `badge badge-${permit.status}`;
  status.dataset.status = permit.status;
  status.replaceChildren(
    el("span", { "aria-hidden": "true" }, STATUS_ICONS[permit.status] || "•"),
    " ",
    t(`app.permit.status.${permit.status}`),
    permit.status_reason ? ` — ${permit.status_reason}` : "",
  );
}

function renderEndorsement(window) {
  const stage = window.stage;
  const box = byId("endorse");
  box.dataset.stage = stage;
  byId("endorse-window").textContent = t("app.endorse.window", {
    opens: day(window.window_opens),
    anniversary: day(window.anniversary),
  });
  const state = byId("endorse-state");
  state.className = `badge badge-endorse-${stage}`;
  state.replaceChildren(
    el("span", { "aria-hidden": "true" }, { before_window: "○", open: "✎", overdue: "⚠" }[stage]),
    " ",
    t(`app.endorse.stage.${stage}`, {
      opens: day(window.window_opens),
      anniversary: day(window.anniversary),
    }),
  );
  const button = byId("endorse-button");
  button.disabled = !(stage === "open" || stage === "overdue");
  button.textContent = t(stage === "overdue" ? "app.endorse.late_button" : "app.endorse.button");
}

/** Shows the static `EP1:` QR, labelled as the fallback it is. */
async function showStatic(sess, reason) {
  const response = await authed(sess, "/v1/permits/me/qr.svg", { raw: true });
  showSvg(byId("static-qr"), await response.text());
  byId("static-qr").querySelector("svg")?.setAttribute("aria-label", t("app.qr.static_alt"));
  byId("static-reason").textContent = t(`app.qr.static_reason.${reason}`);
  byId("static-block").hidden = false;
}

/** The binding state: `live` when this browser's key is the permit's `holder_key`. */
async function bindingState(permit) {
  if (!(await canMakeKeys())) return "no_webcrypto";
  if (!(await engine())) return "no_engine";
  const pair = await storedKey();
  if (pair && permit.holder_key && (await publicKeyHex(pair)) === permit.holder_key.toLowerCase()) {
    return "live";
  }
  return permit.holder_key ? "other_device" : "unbound";
}

/** Loads and shows the card; returns the permit, or null when none has been issued. */
export async function loadPermit(sess, me) {
  stopLiveQr();
  let mine;
  try {
    mine = await authed(sess, "/v1/permits/me");
  } catch (err) {
    if (err.status === 404) {
      byId("permit-none").hidden = false;
      byId("permit-card").hidden = true;
      return null;
    }
    throw err;
  }
  byId("permit-none").hidden = true;
  byId("permit-card").hidden = false;
  const { permit, credential, endorsement } = mine;
  renderFacts(permit, me);
  renderEndorsement(endorsement);
  byId("static-block").hidden = true;
  byId("live-block").hidden = true;
  byId("bind-block").hidden = true;
  if (permit.status === "revoked") return permit;
  const state = await bindingState(permit);
  byId("permit-card").dataset.binding = state;
  if (state === "live") {
    byId("live-block").hidden = false;
    live = new LiveQr(await engine(), credential, await storedKey());
    live.onError = (err) => {
      showError(byId("permit-error"), err);
      showStatic(sess, "live_failed").catch(() => {});
    };
    await live.start();
    announce(t("app.qr.live_ready"));
    return permit;
  }
  if (state === "unbound" || state === "other_device") {
    byId("bind-block").hidden = false;
    byId("bind-other").hidden = state !== "other_device";
    const phone = byId("bind-phone");
    if (!phone.value) phone.value = loggedInPhone();
  }
  await showStatic(sess, state);
  return permit;
}

/** Wires the binding form and the endorsement button; `reload()` shows the card again. */
export function setUpPermit(sess, reload) {
  const send = byId("bind-send");
  send.addEventListener("click", async () => {
    showError(byId("bind-error"), null);
    try {
      await sendCode(byId("bind-phone").value.trim(), send);
      byId("bind-code-row").hidden = false;
      byId("bind-code").focus();
    } catch (err) {
      showError(byId("bind-error"), err);
    }
  });
  byId("bind-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(byId("bind-submit"), byId("bind-error"), async () => {
      const wasm = await engine();
      const pair = await deviceKey();
      const challenge = await authed(sess, "/v1/permits/me/holder-key/challenge", {
        method: "POST",
        body: {},
      });
      const message = wasm.bindingMessage(challenge.number, challenge.challenge);
      const signature = await sign(pair, message);
      await authed(sess, "/v1/permits/me/holder-key", {
        method: "PUT",
        body: {
          public_key: await publicKeyHex(pair),
          challenge: challenge.challenge,
          signature: hex(signature),
          code: byId("bind-code").value.trim(),
        },
      });
      byId("bind-code").value = "";
      announce(t("app.bind.done"));
      await reload();
    });
  });
  byId("endorse-button").addEventListener("click", async () => {
    const done = await busy(byId("endorse-button"), byId("endorse-error"), () =>
      authed(sess, "/v1/permits/me/endorsements", { method: "POST", body: {} }),
    );
    if (!done) return;
    await reload();
    announce(t(`app.endorse.done.${done.timing.timing}`, { next: day(done.timing.next) }));
  });
}
