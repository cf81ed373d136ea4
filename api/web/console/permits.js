// Permit search within the officer's district (`GET /v1/permits?number=&status=`) and the
// status changes of SPEC §1.5 with a reason: suspend, restore, and revoke — final, so it asks
// for a second, explicit confirmation.
import { t } from "/web/i18n.js";
import { call } from "./account.js";
import { h, $, fill } from "./dom.js";
import { day, district, instant, permitState } from "./format.js";
import { describe } from "./problems.js";
import { fact } from "./queue.js";
import { announce } from "./status.js";

/** Wires the search form (once). */
export function setUpPermits() {
  $("#permit-search").addEventListener("submit", (event) => {
    event.preventDefault();
    searchPermits();
  });
}

let searches = 0;

/** Runs the search the form describes (an answer to an earlier search arriving late is dropped). */
export async function searchPermits() {
  const mine = ++searches;
  const params = new URLSearchParams();
  const number = $("#permit-number").value.trim();
  const status = $("#permit-status").value;
  if (number) params.set("number", number);
  if (status) params.set("status", status);
  const list = $("#permit-results");
  $("#permit-detail").hidden = true;
  try {
    const { items } = await call(`/v1/permits?${params}`);
    if (mine !== searches) return;
    fill(list, items.length ? items.map(permitItem) : h("li", { class: "muted", text: t("console.permits.none") }));
    announce(t("console.permits.found", { count: items.length }));
  } catch (error) {
    if (mine === searches) fill(list, h("li", { class: "problem", text: describe(error) }));
  }
}

function permitItem(p) {
  const open = h("button", {
    type: "button",
    dataset: { action: "open-permit", number: p.number },
    text: t("console.permits.open"),
    "aria-label": t("console.permits.open_named", { number: p.number }),
  });
  open.addEventListener("click", () => openPermit(p));
  return h(
    "li",
    { class: "card", dataset: { permit: p.number } },
    h("p", { class: "card-title" }, h("span", { text: p.number }), " ", permitState(p.status)),
    h("dl", { class: "facts" }, fact(t("console.field.valid_until"), day(p.valid_until))),
    open,
  );
}

/** The permit page: its facts, and the status changes open to it. */
function openPermit(p) {
  const panel = $("#permit-detail");
  panel.hidden = false;
  const reason = h("textarea", { id: "permit-reason", name: "reason", rows: 3, maxlength: 500 });
  const outcome = h("p", { id: "permit-outcome", class: "message", role: "status", "aria-live": "polite" });
  const confirmBox = h("div", { id: "revoke-confirm", class: "confirm", hidden: true });
  const button = (action, cls) =>
    h("button", { type: "button", class: cls, dataset: { action }, id: `permit-${action}`, text: t(`console.permits.${action}`) });
  const suspend = button("suspend", "");
  const restore = button("restore", "");
  const revoke = button("revoke", "danger");
  const heading = h("h3", { tabindex: "-1", text: t("console.permits.heading", { number: p.number }) });
  const state = h("dd", {}, permitState(p.status));
  const reasonShown = h("dd", { text: p.status_reason ?? t("console.none") });
  fill(
    panel,
    heading,
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", { text: t("console.field.status") }), state),
      h("div", {}, h("dt", { text: t("console.field.status_reason") }), reasonShown),
      fact(t("console.field.district"), district(p.district)),
      fact(t("console.field.issued_on"), day(p.issued_on)),
      fact(t("console.field.valid_until"), day(p.valid_until)),
      fact(t("console.field.last_endorsed"), day(p.last_endorsed)),
      fact(t("console.field.holder_key"), p.holder_key ? t("console.permits.key_bound", { at: instant(p.holder_key_bound_at) }) : t("console.permits.key_unbound")),
    ),
    h("label", { for: "permit-reason", text: t("console.permits.reason") }),
    reason,
    h("div", { class: "actions" }, suspend, restore, revoke),
    confirmBox,
    outcome,
  );
  heading.focus();

  const enable = (status) => {
    suspend.disabled = status !== "active";
    restore.disabled = status !== "suspended";
    revoke.disabled = status === "revoked";
    reason.disabled = status === "revoked";
  };
  enable(p.status);

  const reasonText = () => {
    const text = reason.value.trim();
    if (text.length < 2) {
      outcome.className = "message bad";
      outcome.textContent = t("console.permits.reason_required");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return null;
    }
    reason.removeAttribute("aria-invalid");
    return text;
  };

  const change = async (action, text) => {
    outcome.className = "message";
    outcome.textContent = t("console.working");
    try {
      const updated = await call(`/v1/permits/${encodeURIComponent(p.number)}/${action}`, {
        method: "POST",
        body: { reason: text },
      });
      Object.assign(p, updated);
      fill(state, permitState(updated.status));
      reasonShown.textContent = updated.status_reason ?? t("console.none");
      document.querySelector(`[data-permit="${CSS.escape(p.number)}"] .badge`)?.replaceWith(permitState(updated.status));
      enable(updated.status);
      reason.value = "";
      outcome.className = "message ok";
      outcome.textContent = t(`console.permits.done_${action}`, { number: p.number });
    } catch (error) {
      outcome.className = "message bad";
      outcome.textContent = describe(error);
    }
  };

  suspend.addEventListener("click", () => {
    const text = reasonText();
    if (text) change("suspend", text);
  });
  restore.addEventListener("click", () => {
    const text = reasonText();
    if (text) change("restore", text);
  });
  revoke.addEventListener("click", () => {
    const text = reasonText();
    if (!text) return;
    const yes = h("button", { type: "button", class: "danger", id: "revoke-yes", text: t("console.permits.revoke_yes") });
    const no = h("button", { type: "button", id: "revoke-no", text: t("console.permits.revoke_no") });
    const question = h("p", { id: "revoke-question", text: t("console.permits.revoke_question", { number: p.number }) });
    fill(confirmBox, question, h("div", { class: "actions" }, yes, no));
    confirmBox.setAttribute("role", "alertdialog");
    confirmBox.setAttribute("aria-labelledby", "revoke-question");
    confirmBox.hidden = false;
    no.focus();
    const close = () => {
      confirmBox.hidden = true;
      confirmBox.replaceChildren();
      revoke.focus();
    };
    no.addEventListener("click", close);
    confirmBox.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
    yes.addEventListener("click", async () => {
      confirmBox.hidden = true;
      confirmBox.replaceChildren();
      await change("revoke", text);
    });
  });
}
