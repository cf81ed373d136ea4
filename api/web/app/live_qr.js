// The live QR: an `EPP1:` presentation of the credential, signed by the device key, re-made
// every 30 s (SPEC §2) with a visible countdown, drawn by the engine's `qrSvg` (the wasm module
// shared with the desk). While it shows, the screen is kept awake where the browser allows.

import { t } from "/web/i18n.js";
import { byId } from "./dom.js";
import { sign } from "./device_key.js";

export const REFRESH_SECONDS = 30;

/** Puts SVG markup from the engine into `box` as nodes (parsed, never as HTML). */
export function showSvg(box, markup) {
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") throw new Error("the QR is not an SVG");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("app.qr.live_alt"));
  box.replaceChildren(document.importNode(svg, true));
}

let wakeLock = null;

async function keepAwake() {
  try {
    if (navigator.wakeLock && document.visibilityState === "visible" && !wakeLock) {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => {
        wakeLock = null;
      });
    }
  } catch {
    // Refused (battery saver, no user gesture): the QR still works, the screen may dim.
  }
}

function onVisible() {
  if (document.visibilityState === "visible") keepAwake();
}

/** A running live QR; `stop()` ends it. */
export class LiveQr {
  constructor(engine, credential, pair) {
    this.engine = engine;
    this.credential = credential;
    this.pair = pair;
    this.timer = null;
    this.madeAt = 0;
  }

  /** Makes one presentation now and shows it. */
  async refresh() {
    const now = Math.floor(Date.now() / 1000);
    const message = this.engine.presentationMessage(this.credential, now);
    const signature = await sign(this.pair, message);
    const text = this.engine.presentationFinish(this.credential, now, signature);
    const box = byId("live-qr");
    showSvg(box, this.engine.qrSvg(text));
    box.dataset.madeAt = String(now);
    this.madeAt = now;
    this.tick();
  }

  tick() {
    const left = Math.max(0, this.madeAt + REFRESH_SECONDS - Math.floor(Date.now() / 1000));
    byId("qr-countdown").textContent = t("app.qr.countdown", { seconds: left });
    const bar = byId("qr-countdown-bar");
    bar.value = left;
    bar.max = REFRESH_SECONDS;
    if (left <= 0 && !this.refreshing) {
      this.refreshing = true;
      this.refresh()
        .catch((err) => this.fail(err))
        .finally(() => {
          this.refreshing = false;
        });
    }
  }

  fail(err) {
    this.stop();
    this.onError?.(err);
  }

  async start() {
    await this.refresh();
    this.timer = setInterval(() => this.tick(), 1000);
    document.addEventListener("visibilitychange", onVisible);
    keepAwake();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    document.removeEventListener("visibilitychange", onVisible);
    wakeLock?.release().catch(() => {});
    wakeLock = null;
  }
}
