// The screens' client of the epermit API: JSON in and out, RFC 9457 problems thrown as ApiProblem
// (its `type` is the API's stable error code, which the screens translate), sessions kept in this
// origin's localStorage, one refresh on an expired access token.

/** A non-2xx answer of the API. */
export class ApiProblem extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    /** The stable code (`wrong_code`, `application_refused`, …) or `network` when nothing answered. */
    this.type = problem.type || `http_${status}`;
    this.title = problem.title || "";
    this.detail = problem.detail || "";
    this.field = problem.field;
    /** The whole problem document (extra members such as `attempts_left`). */
    this.problem = problem;
    /** Seconds from the Retry-After header, when there is one. */
    this.retryAfter = retryAfter;
  }
}

/**
 * Calls the API. `body` is sent as JSON, `form` (a FormData) as multipart; `token` as a bearer.
 * Returns the parsed JSON (null for an empty answer), or the Response itself with `raw: true`.
 */
export async function api(path, { method = "GET", body, form, token, headers = {}, raw = false } = {}) {
  const init = { method, headers: { ...headers }, cache: "no-store" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (form) {
    init.body = form;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiProblem(0, { type: "network", detail: String(error) });
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { title: response.statusText };
    }
    const retry = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    throw new ApiProblem(response.status, problem, Number.isFinite(retry) ? retry : undefined);
  }
  if (raw) return response;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * The tokens of one screen (`name`: "app", "console", "desk"), kept in localStorage under
 * `epermit.<name>.session`: `{access_token, refresh_token}`.
 */
export function session(name) {
  const key = `epermit.${name}.session`;
  return {
    get() {
      try {
        return JSON.parse(localStorage.getItem(key) || "null");
      } catch {
        return null;
      }
    },
    set(tokens) {
      localStorage.setItem(
        key,
        JSON.stringify({ access_token: tokens.access_token, refresh_token: tokens.refresh_token }),
      );
    },
    clear() {
      localStorage.removeItem(key);
    },
  };
}

/**
 * `api()` with the access token of `sess`; on a 401 it refreshes the pair once
 * (`POST /v1/auth/refresh`) and tries again. Throws ApiProblem 401 (and clears the session) when
 * the login has ended.
 */
export async function authed(sess, path, opts = {}) {
  const tokens = sess.get();
  if (!tokens) throw new ApiProblem(401, { type: "unauthorized", detail: "not logged in" });
  try {
    return await api(path, { ...opts, token: tokens.access_token });
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status !== 401) throw error;
  }
  let fresh;
  try {
    fresh = await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: tokens.refresh_token } });
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) sess.clear();
    throw error;
  }
  sess.set(fresh);
  return api(path, { ...opts, token: fresh.access_token });
}

/**
 * Logs out: forgets the tokens of `sess` at once (this device is logged out whatever the network
 * does, even if the page is left straight away), then ends the login on the service
 * (`POST /v1/auth/logout`, refreshing once if the access token has expired). Throws the
 * service's ApiProblem when it could not be told; the local session is gone either way.
 */
export async function endSession(sess) {
  let tokens = sess.get();
  sess.clear();
  if (!tokens?.refresh_token) return;
  const held = {
    get: () => tokens,
    set: (fresh) => {
      tokens = fresh;
    },
    clear: () => {},
  };
  await authed(held, "/v1/auth/logout", {
    method: "POST",
    body: { refresh_token: tokens.refresh_token },
  });
}
