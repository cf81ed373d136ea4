// The desk's verifier: the wasm engine with the pinned root keys, its exported state kept in
// localStorage (so a reload keeps the highest trust-list sequence and any successor root key),
// and the signed verifier bundle refreshed from the service whenever the network allows.
// No verification logic lives here: every check is the engine's.

import { loadEngine } from "/web/engine.js";

const STATE_KEY = "epermit.desk.verifier";
const REFRESHED_KEY = "epermit.desk.refreshed_at";
const BUNDLE_URL_DEFAULT = "/v1/verifier-bundle";
// Between refreshes: never more often than this, never less often than the longest.
const MIN_REFRESH_MS = 30_000;
const MAX_REFRESH_MS = 15 * 60_000;

/** Unix seconds now (what the engine takes). */
export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/**
 * Loads the engine, the pinned configuration and the verifier (from its saved state, else from
 * the configuration's root keys). Resolves to a `Desk` ready to verify offline.
 */
export async function openDesk() {
  const [engine, config] = await Promise.all([loadEngine(), loadConfig()]);
  let verifier = null;
  const saved = localStorage.getItem(STATE_KEY);
  if (saved) {
    try {
      verifier = engine.verifierFromState(saved);
    } catch {
      // A state this engine cannot read (an older format): start again from the pinned keys.
      localStorage.removeItem(STATE_KEY);
    }
  }
  if (!verifier) verifier = engine.newVerifier(config.root_keys);
  return new Desk(engine, verifier, config);
}

async function loadConfig() {
  const response = await fetch("/web/config.json");
  if (!response.ok) throw Object.assign(new Error("config"), { code: "config_unavailable" });
  return response.json();
}

/** The engine and the verifier of this desk, and what it knows of its lists. */
export class Desk {
  constructor(engine, verifier, config) {
    this.engine = engine;
    this.verifier = verifier;
    this.config = config;
    this.bundleUrl = config.bundle_url || BUNDLE_URL_DEFAULT;
    this.online = navigator.onLine;
    this.lastError = null;
    this.timer = null;
    this.listeners = new Set();
  }

  /** Calls `fn()` whenever the lists or the network state change. */
  onChange(fn) {
    this.listeners.add(fn);
  }

  changed() {
    for (const fn of this.listeners) fn();
  }

  /** The SPEC §2 verdict of `text` now (the engine's answer, unchanged). */
  verify(text) {
    return this.verifier.verify(text, nowSeconds());
  }

  /** The lists held, with their age against their ttl. */
  state() {
    return this.verifier.state(nowSeconds());
  }

  /** When the bundle was last fetched and loaded (Unix ms), or null. */
  refreshedAt() {
    const value = Number(localStorage.getItem(REFRESHED_KEY));
    return Number.isFinite(value) && value > 0 ? value : null;
  }

  /**
   * Fetches the signed bundle and hands it to the engine (which checks its signature against the
   * pinned root keys and refuses rollbacks), then saves the verifier's state. Never throws: a
   * failure is kept in `lastError` (`offline` or the engine's code) and the lists held stay.
   */
  async refresh() {
    try {
      const response = await fetch(this.bundleUrl, { cache: "no-store" });
      if (!response.ok) throw Object.assign(new Error("bundle"), { code: "bundle_unavailable" });
      const bytes = new Uint8Array(await response.arrayBuffer());
      const load = this.verifier.loadBundle(bytes, nowSeconds());
      localStorage.setItem(STATE_KEY, this.verifier.exportState());
      localStorage.setItem(REFRESHED_KEY, String(Date.now()));
      this.online = true;
      this.lastError = null;
      this.lastLoad = load;
    } catch (error) {
      this.online = error instanceof TypeError ? false : navigator.onLine;
      if (error instanceof TypeError) this.lastError = "offline";
      else this.lastError = error.code === "bundle_unavailable" ? "bundle_unavailable" : "bundle_refused";
    }
    this.changed();
    this.schedule();
  }

  /** The next refresh: when the first list held reaches its ttl, within sane bounds. */
  schedule() {
    clearTimeout(this.timer);
    let wait = MAX_REFRESH_MS;
    try {
      for (const list of this.state().lists) {
        const ttl = list.ttl_seconds ?? (Number(list.expires_at) - Number(list.issued_at));
        if (Number.isFinite(ttl)) wait = Math.min(wait, (ttl - list.age_seconds) * 1000);
      }
    } catch {
      // No state yet: the default wait.
    }
    if (this.lastError) wait = Math.min(wait, MIN_REFRESH_MS * 2);
    wait = Math.max(MIN_REFRESH_MS, wait);
    this.timer = setTimeout(() => this.refresh(), wait);
  }

  /** Refreshes on `online` events and marks the desk offline on `offline` ones. */
  watchNetwork() {
    addEventListener("online", () => {
      this.online = true;
      this.refresh();
    });
    addEventListener("offline", () => {
      this.online = false;
      this.changed();
    });
  }
}
