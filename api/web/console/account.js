// The staff account of the console: logging in with a password (`POST /v1/auth/staff-login`),
// the role and district read from the access token's claims, logging out
// (`POST /v1/auth/logout`). Tokens stay in this origin's localStorage through `/web/api.js`.
import { api, authed, endSession, session } from "/web/api.js";

export const sess = session("console");
const ACCOUNT_KEY = "epermit.console.account";

/** The claims of a JWT (not verified here: the API verifies every call). */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The logged-in account `{username, role, district, org, id}`, or null. */
export function current() {
  const tokens = sess.get();
  const token = tokens?.access_token ?? tokens?.access;
  if (!token) return null;
  const c = claims(token);
  if (!c || !String(c.sub ?? "").startsWith("staff:")) return null;
  return {
    id: Number(String(c.sub).slice(6)),
    role: c.role,
    district: c.district ? String(c.district) : null,
    org: c.org ?? null,
    username: localStorage.getItem(ACCOUNT_KEY) ?? "",
  };
}

/** Logs in; throws the API's problem. */
export async function logIn(username, password) {
  const tokens = await api("/v1/auth/staff-login", {
    method: "POST",
    body: { username, password },
  });
  sess.set(tokens);
  localStorage.setItem(ACCOUNT_KEY, username);
  return current();
}

/** Forgets this login here at once, then ends it at the API (see `endSession`). */
export async function logOut() {
  localStorage.removeItem(ACCOUNT_KEY);
  await endSession(sess);
}

/**
 * An authenticated call of the console's session. When the API no longer takes the session
 * (401 after the refresh was tried), it is forgotten and `console:signed-out` is dispatched so
 * the page shows the login form again.
 */
export async function call(path, opts = {}) {
  try {
    return await authed(sess, path, opts);
  } catch (error) {
    if (error?.status === 401) signedOut();
    throw error;
  }
}

function signedOut() {
  sess.clear();
  localStorage.removeItem(ACCOUNT_KEY);
  window.dispatchEvent(new CustomEvent("console:signed-out"));
}
