// The officer console's entry: the language, the login, the role's views (officers: queues and
// permits of their district; admins: audit log and staff accounts) and moving between them.
import { initI18n, t } from "/web/i18n.js";
import { current, logIn, logOut } from "./account.js";
import { $ } from "./dom.js";
import { district, role } from "./format.js";
import { describe } from "./problems.js";
import { closeApplication, loadQueue } from "./queue.js";
import { searchPermits, setUpPermits } from "./permits.js";
import { loadAudit, setUpAudit } from "./audit.js";
import { loadStaff } from "./staff.js";
import { alertProblem, quiet } from "./status.js";

const LOADERS = { queue: loadQueue, permits: searchPermits, audit: loadAudit, staff: loadStaff };
const FIRST = { officer: "queue", admin: "audit" };

function showOnly(id) {
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
}

/** Opens view `name` (a tab of the account's role) and loads it. */
async function open(name, { focus = true } = {}) {
  closeApplication();
  quiet();
  showOnly(`view-${name}`);
  for (const tab of document.querySelectorAll("#tabs [data-view]")) {
    if (tab.dataset.view === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  try {
    await LOADERS[name]?.();
  } catch (error) {
    alertProblem(error);
  }
  if (focus) {
    const heading = $(`#view-${name} h2`);
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
  }
}

/** Shows the page for the logged-in account (or the login form). */
async function render() {
  const account = current();
  $("#account").hidden = !account;
  $("#tabs").hidden = !account || !FIRST[account.role];
  if (!account) {
    showOnly("view-login");
    $("#login-username").focus();
    return;
  }
  $("#account-name").textContent = account.username;
  $("#account-role").textContent = role(account.role);
  $("#account-district").textContent = account.district ? district(account.district) : "";
  $("#account-district").hidden = !account.district;
  for (const tab of document.querySelectorAll("#tabs [data-view]")) {
    tab.hidden = tab.dataset.role !== account.role;
  }
  const first = FIRST[account.role];
  if (!first) {
    showOnly("view-wrong-role");
    return;
  }
  const wanted = location.hash.slice(1);
  const allowed = [...document.querySelectorAll(`#tabs [data-role="${account.role}"]`)].map((b) => b.dataset.view);
  await open(allowed.includes(wanted) ? wanted : first, { focus: false });
}

function wire() {
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("#login-username").value.trim();
    const password = $("#login-password").value;
    const error = $("#login-error");
    if (!username || !password) {
      error.textContent = t("console.login.missing");
      (username ? $("#login-password") : $("#login-username")).focus();
      return;
    }
    const submit = $("#login-submit");
    submit.disabled = true;
    error.textContent = "";
    try {
      await logIn(username, password);
      $("#login-password").value = "";
      await render();
      $("#main").focus();
    } catch (problem) {
      error.textContent = describe(problem);
      $("#login-password").select();
    } finally {
      submit.disabled = false;
    }
  });
  $("#logout").addEventListener("click", async () => {
    try {
      await logOut();
    } catch {
      // The tokens are forgotten here whatever the API answered.
    }
    history.replaceState(null, "", location.pathname);
    await render();
  });
  for (const tab of document.querySelectorAll("#tabs [data-view]")) {
    tab.addEventListener("click", () => open(tab.dataset.view));
  }
  $("#queue-reload").addEventListener("click", () => loadQueue());
  setUpPermits();
  setUpAudit();
  // Words that code wrote are written again when the language changes.
  document.addEventListener("epermit:language", () => render());
  // A call that finds the session gone brings back the login form, saying why.
  window.addEventListener("console:signed-out", () => {
    render().then(() => {
      $("#login-error").textContent = t("console.login.expired");
    });
  });
}

await initI18n();
wire();
await render();
document.documentElement.dataset.ready = "true";
