// The verifier desk (/desk/): a hand scanner, paste or the camera in; the engine's verdict out,
// filling the screen. Wires the page together; the verdicts come from the wasm engine only.

import { initI18n, t } from "/web/i18n.js";
import { openDesk } from "./lists.js";
import { renderResult, renderIdle, renderProblem, renderLive, renderLists, formatMoment } from "./result.js";
import { Camera } from "./camera.js";
import { loggedIn, logIn, logOut, liveVerify, problemKey } from "./live.js";

const KIND_KEY = "epermit.desk.kind";
const $ = (id) => document.getElementById(id);

const scan = $("scan");
const panel = $("result");
let desk = null;
let lastText = null;
let lastResult = null;
let scans = 0;

/** Keeps the scan field focused unless the user is in another control on purpose. */
function keepFocus() {
  const active = document.activeElement;
  const elsewhere = active && active !== scan && active !== document.body && active.closest("input, select, textarea, summary, details[open] button, #live button");
  if (!elsewhere) scan.focus({ preventScroll: true });
}

/** Verifies `text`, started at `startedAt` (performance.now() of the Enter key or the paste). */
function check(text, startedAt) {
  const qr = text.trim();
  if (!qr) return;
  if (!desk) {
    renderProblem(panel, "desk.engine.not_ready");
    return;
  }
  scans += 1;
  const scan_no = String(scans);
  let result;
  try {
    result = desk.verify(qr);
  } catch (error) {
    // Not a verdict: the engine refused the input itself (longer than any QR code holds…).
    lastText = null;
    lastResult = null;
    renderProblem(panel, error?.code === "qr_too_long" ? "desk.problem.qr_too_long" : "desk.problem.engine");
    panel.dataset.scan = scan_no;
    panel.dataset.measured = scan_no;
    return;
  }
  lastText = qr;
  lastResult = result;
  renderResult(panel, result, kind());
  panel.dataset.scan = scan_no;
  panel.removeAttribute("data-elapsed-ms");
  $("live").hidden = !loggedIn();
  $("live-result").replaceChildren();
  // The verdict is painted in the next frame: measure to its start.
  requestAnimationFrame(() => {
    const elapsed = performance.now() - startedAt;
    panel.dataset.elapsedMs = elapsed.toFixed(2);
    panel.dataset.measured = scan_no;
  });
}

function kind() {
  return $("desk-kind").value;
}

function showNetwork() {
  const box = $("network");
  if (!desk) return;
  const offline = !desk.online || desk.lastError === "offline";
  box.dataset.online = String(!offline);
  const refreshed = desk.refreshedAt();
  if (offline) {
    box.textContent = t("desk.network.offline", { date: refreshed ? formatMoment(refreshed / 1000) : t("desk.none") });
  } else if (desk.lastError) {
    box.textContent = t(`desk.network.${desk.lastError}`);
  } else {
    box.textContent = t("desk.network.online");
  }
  let state = null;
  try {
    state = desk.state();
  } catch {
    state = { lists: [] };
  }
  renderLists($("lists-body"), state);
  const stale = state.lists.some((list) => list.stale || list.expired);
  box.dataset.stale = String(stale);
  if (stale) box.textContent += ` ${t("desk.lists.some_stale")}`;
  $("lists-refreshed").textContent = refreshed
    ? t("desk.lists.refreshed_at", { date: formatMoment(refreshed / 1000) })
    : t("desk.lists.never");
}

function wireScanner() {
  // The clock starts at the scanner's Enter key (the form's submission follows it).
  let enterAt = null;
  scan.addEventListener("keydown", (event) => {
    if (event.key === "Enter") enterAt = performance.now();
  });
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const startedAt = enterAt ?? performance.now();
    enterAt = null;
    const text = scan.value;
    scan.value = "";
    check(text, startedAt);
    keepFocus();
  });
  scan.addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text") ?? "";
    if (!text.trim()) return;
    event.preventDefault();
    const startedAt = performance.now();
    scan.value = "";
    check(text, startedAt);
  });
  // A scanner typing while focus sits elsewhere (on the page, a button) goes to the field.
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return;
    const active = document.activeElement;
    if (active === scan || active?.matches?.("input, select, textarea")) return;
    scan.focus({ preventScroll: true });
  });
  document.addEventListener("click", () => setTimeout(keepFocus, 0));
}

function wireCamera() {
  const toggle = $("camera-toggle");
  const section = $("camera");
  const status = $("camera-status");
  const camera = new Camera($("camera-video"), $("camera-canvas"),
    (rgba, width, height) => desk?.engine.decodeQr(rgba, width, height) ?? null,
    (text) => check(text, performance.now()));
  const show = (running) => {
    toggle.setAttribute("aria-pressed", String(running));
    toggle.textContent = t(running ? "desk.camera.stop" : "desk.camera.start");
    toggle.dataset.i18n = running ? "desk.camera.stop" : "desk.camera.start";
    section.hidden = !running;
    status.textContent = running ? t("desk.camera.looking") : "";
  };
  toggle.addEventListener("click", async () => {
    if (camera.running) {
      camera.stop();
      show(false);
      return;
    }
    try {
      section.hidden = false;
      await camera.start();
      show(true);
    } catch (error) {
      camera.stop();
      show(false);
      section.hidden = false;
      status.textContent = t(error?.name === "NotAllowedError" ? "desk.camera.denied" : "desk.camera.unavailable");
    }
    keepFocus();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) show(false);
  });
}

function wireSettings() {
  const select = $("desk-kind");
  const saved = localStorage.getItem(KIND_KEY);
  if (saved && [...select.options].some((o) => o.value === saved)) select.value = saved;
  select.addEventListener("change", () => {
    localStorage.setItem(KIND_KEY, select.value);
    if (lastResult) renderResult(panel, lastResult, kind());
  });
  $("lists-refresh").addEventListener("click", () => desk?.refresh());
}

function showAccount() {
  const inside = loggedIn();
  $("login-form").hidden = inside;
  $("logged-in").hidden = !inside;
  $("live").hidden = !(inside && lastText);
}

function wireAccount() {
  showAccount();
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("login-status");
    status.textContent = t("desk.account.logging_in");
    try {
      await logIn($("login-username").value.trim(), $("login-password").value);
      $("login-password").value = "";
      status.textContent = t("desk.account.logged_in");
    } catch (error) {
      status.textContent = t(problemKey(error));
    }
    showAccount();
  });
  $("logout").addEventListener("click", async () => {
    await logOut();
    $("login-status").textContent = t("desk.account.logged_out");
    showAccount();
  });
  $("live-check").addEventListener("click", async () => {
    const box = $("live-result");
    if (!lastText) return;
    box.textContent = t("desk.live.checking");
    try {
      renderLive(box, await liveVerify(lastText));
    } catch (error) {
      box.textContent = t(problemKey(error));
      if (!loggedIn()) showAccount();
    }
  });
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data?.kept) document.body.dataset.offline = "ready";
    });
    await navigator.serviceWorker.register("./sw.js", { scope: "./" });
    const registration = await navigator.serviceWorker.ready;
    // Keep what this page loaded (the engine's wasm among it), whatever its file names.
    const urls = performance.getEntriesByType("resource")
      .map((entry) => new URL(entry.name))
      .filter((url) => url.origin === location.origin && /^\/(web|desk)\//.test(url.pathname))
      .map((url) => url.pathname);
    registration.active?.postMessage({ keep: [location.pathname, ...urls] });
  } catch {
    // Without a worker the desk still verifies; it just will not open offline.
  }
}

/** Re-renders what holds words when the language changes. */
function watchLanguage() {
  document.addEventListener("epermit:language", () => {
    if (lastResult) renderResult(panel, lastResult, kind());
    else if (panel.dataset.state === "idle") renderIdle(panel);
    showNetwork();
  });
}

async function main() {
  await initI18n();
  wireScanner();
  wireSettings();
  wireCamera();
  wireAccount();
  watchLanguage();
  keepFocus();
  const status = $("engine-status");
  try {
    desk = await openDesk();
  } catch {
    status.dataset.i18n = "desk.engine.failed";
    status.textContent = t("desk.engine.failed");
    status.dataset.ready = "false";
    renderProblem(panel, "desk.engine.failed");
    return;
  }
  desk.onChange(showNetwork);
  desk.watchNetwork();
  status.dataset.i18n = "desk.engine.ready";
  status.textContent = t("desk.engine.ready");
  status.dataset.ready = "true";
  showNetwork();
  await desk.refresh();
  document.body.dataset.ready = "true";
  registerWorker();
  setInterval(showNetwork, 60_000);
}

main();
