// Staff accounts for administrators (issue 7 / issue 12 item 3): `GET /v1/staff`, and per
// account disable / enable / unlock / reset-password. A reset password is made here from the
// browser's random source, sent once, and shown once until the admin dismisses it.
import { t } from "/web/i18n.js";
import { call } from "./account.js";
import { h, $, fill } from "./dom.js";
import { district, instant, role } from "./format.js";
import { describe } from "./problems.js";
import { announce, alertProblem } from "./status.js";

/** Loads the accounts table. */
export async function loadStaff() {
  const body = $("#staff-rows");
  try {
    const { staff } = await call("/v1/staff");
    fill(body, staff.map(row));
  } catch (error) {
    fill(body, h("tr", {}, h("td", { colspan: 5, class: "problem", text: describe(error) })));
  }
}

/** Four groups of five letters and digits (no look-alikes): about 103 bits. */
export function newPassword() {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  const chars = Array.from(bytes, (b) => alphabet[b % alphabet.length]);
  return [0, 5, 10, 15].map((i) => chars.slice(i, i + 5).join("")).join("-");
}

function row(account) {
  const state = account.disabled
    ? h("span", { class: "badge badge-revoked" }, h("span", { "aria-hidden": "true", text: "✗" }), " ", t("console.staff.disabled", { at: instant(account.disabled_at) }))
    : h("span", { class: "badge badge-active" }, h("span", { "aria-hidden": "true", text: "✓" }), " ", t("console.staff.enabled"));
  const scope = account.role === "officer" ? district(account.district) : ["school", "hospital", "police"].includes(account.org_kind) ? t(`console.org.${account.org_kind}`) : t("console.none");
  const button = (action, cls = "") =>
    h("button", {
      type: "button",
      class: cls,
      dataset: { action, id: account.id },
      text: t(`console.staff.${action}`),
      "aria-label": t(`console.staff.${action}_named`, { username: account.username }),
    });
  const toggle = account.disabled ? button("enable") : button("disable", "danger");
  const unlock = button("unlock");
  unlock.disabled = account.failed_logins === 0;
  const reset = button("reset");
  const tr = h(
    "tr",
    { dataset: { staff: account.id, username: account.username } },
    h("td", { text: account.username }),
    h("td", {}, role(account.role), h("br"), h("span", { class: "muted", text: scope })),
    h("td", {}, state),
    h("td", { text: String(account.failed_logins) }),
    h("td", {}, h("div", { class: "actions" }, toggle, unlock, reset)),
  );
  const act = async (action, path, body = {}) => {
    try {
      const updated = await call(`/v1/staff/${account.id}/${path}`, { method: "POST", body });
      const fresh = row(updated);
      tr.replaceWith(fresh);
      announce(t(`console.staff.done_${action}`, { username: account.username }));
      return fresh;
    } catch (error) {
      alertProblem(error);
      return null;
    }
  };
  toggle.addEventListener("click", async () => {
    const fresh = await act(account.disabled ? "enable" : "disable", account.disabled ? "enable" : "disable");
    fresh?.querySelector("[data-action=enable],[data-action=disable]")?.focus();
  });
  unlock.addEventListener("click", () => act("unlock", "unlock"));
  reset.addEventListener("click", async () => {
    const password = newPassword();
    const fresh = await act("reset", "reset-password", { password });
    if (fresh) showOnce(account.username, password);
  });
  return tr;
}

/** Shows a new password once, until dismissed (it is kept nowhere else). */
function showOnce(username, password) {
  const box = $("#staff-password");
  const done = h("button", { type: "button", id: "staff-password-done", text: t("console.staff.password_done") });
  fill(
    box,
    h("p", { text: t("console.staff.password_intro", { username }) }),
    h("p", {}, h("code", { id: "staff-password-value", class: "secret", text: password })),
    h("p", { class: "hint", text: t("console.staff.password_hint") }),
    done,
  );
  box.hidden = false;
  done.focus();
  done.addEventListener("click", () => {
    box.hidden = true;
    box.replaceChildren();
  });
}
