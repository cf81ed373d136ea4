// The optional live check: a verifier account logs in (`POST /v1/auth/staff-login`) and
// `POST /v1/verify` then answers with the service's live status, shown beside the offline verdict.

import { api, authed, session, ApiProblem } from "/web/api.js";

const desk = session("desk");

export function loggedIn() {
  return Boolean(desk.get());
}

export async function logIn(username, password) {
  const tokens = await api("/v1/auth/staff-login", { method: "POST", body: { username, password } });
  desk.set(tokens);
}

export async function logOut() {
  const tokens = desk.get();
  desk.clear();
  if (tokens) {
    try {
      await api("/v1/auth/logout", { method: "POST", token: tokens.access_token, body: { refresh_token: tokens.refresh_token } });
    } catch {
      // The session is forgotten here whatever the service answers.
    }
  }
}

/** The service's verdict of `qr` now. */
export async function liveVerify(qr) {
  return authed(desk, "/v1/verify", { method: "POST", body: { qr } });
}

/** The i18n key of a problem (the API's stable `type`, else a network failure). */
export function problemKey(error) {
  if (error instanceof ApiProblem && error.type !== "network") {
    const known = ["unauthorized", "token_expired", "forbidden", "rate_limited", "login_throttled", "busy", "service_unavailable"];
    if (known.includes(error.type)) return `desk.problem.${error.type}`;
    if (error.status === 401) return "desk.problem.unauthorized";
    if (error.status === 403) return "desk.problem.forbidden";
    return "desk.problem.other";
  }
  return "desk.problem.network";
}
