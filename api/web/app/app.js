// The resident app (`/app/`): boots the catalogue and the service worker, then shows the login
// or the screen the address names (#permit, #registrations, #apply, #report, #profile).

import { session } from "/web/api.js";
import { initI18n, t } from "/web/i18n.js";
import { announce, byId, showError } from "./dom.js";
import { loadApplications, setUpApplications } from "./applications.js";
import { logOut, setUpLogin } from "./login.js";
import { loadPermit, setUpPermit, stopLiveQr } from "./permit.js";
import { loadProfile, setUpProfile } from "./profile.js";
import { loadRegistrations, relabelRegistrations, setUpRegistrations } from "./registrations.js";
import { loadReport } from "./report.js";

const sess = session("app");
const VIEWS = ["permit", "registrations", "apply", "report", "profile"];

/** What each screen loads when it is shown. */
const LOADERS = {
  permit: async () => loadPermit(sess, await loadProfile(sess)),
  registrations: () => loadRegistrations(sess),
  apply: async () => {
    const me = await loadProfile(sess);
    byId("apply-profile-missing").hidden = me.profile_complete;
    return loadApplications(sess);
  },
  report: () => loadReport(sess),
  profile: () => loadProfile(sess),
};

function current() {
  const name = location.hash.replace(/^#/, "");
  return VIEWS.includes(name) ? name : "permit";
}

function showOnly(id) {
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
}

function showLogin() {
  stopLiveQr();
  showOnly("view-login");
  byId("tabs").hidden = true;
  byId("logout").hidden = true;
  document.body.dataset.view = "login";
}

/** Shows the screen the address names and loads its data. */
async function route() {
  if (!sess.get()) {
    showLogin();
    return;
  }
  const name = current();
  if (name !== "permit") stopLiveQr();
  announce("");
  showOnly(`view-${name}`);
  byId("tabs").hidden = false;
  byId("logout").hidden = false;
  document.body.dataset.view = name;
  for (const link of byId("tabs").querySelectorAll("a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const box = byId(`${name}-load-error`);
  showError(box, null);
  document.body.dataset.loading = name;
  try {
    await LOADERS[name]();
  } catch (err) {
    if (err.status === 401) {
      sess.clear();
      announce(t("app.problem.unauthorized"));
      showLogin();
      return;
    }
    showError(box, err);
  } finally {
    delete document.body.dataset.loading;
    document.body.dataset.loaded = name;
  }
}

async function boot() {
  await initI18n();
  setUpLogin(sess, async () => {
    if (!location.hash) location.hash = "#permit";
    await route();
  });
  setUpProfile(sess, route);
  setUpRegistrations(sess);
  setUpApplications(sess);
  setUpPermit(sess, () => route());
  byId("logout").addEventListener("click", async () => {
    stopLiveQr();
    await logOut(sess);
    showLogin();
    byId("login-phone").focus();
  });
  // The catalogue translates the markup; the parts built by script are drawn again.
  document.addEventListener("epermit:language", () => {
    relabelRegistrations();
    if (sess.get()) route();
  });
  window.addEventListener("hashchange", route);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("./sw.js").catch(() => {});
  }
  await route();
  document.body.dataset.ready = "true";
}

boot();
