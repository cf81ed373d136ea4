// The officer's queues: residence registrations to confirm (`GET /v1/residences?status=declared`,
// `POST /v1/residences/{id}/confirm`) and applications to review (`GET
// /v1/applications?status=submitted`), each opened with its evidence inline, then approved
// (`POST …/approve`, which issues the permit) or rejected with a reason (`POST …/reject`).
import { t } from "/web/i18n.js";
import { call } from "./account.js";
import { h, $, fill } from "./dom.js";
import { basis, day, district, instant } from "./format.js";
import { describe } from "./problems.js";
import { releaseEvidence, showEvidence } from "./evidence.js";
import { announce, alertProblem } from "./status.js";

/** Loads both queues into the queue view. */
export async function loadQueue() {
  await Promise.all([loadRegistrations(), loadApplications()]);
}

async function loadRegistrations() {
  const list = $("#registrations");
  try {
    const { items } = await call("/v1/residences?status=declared");
    if (!items.length) {
      fill(list, h("li", { class: "muted", text: t("console.queue.registrations_empty") }));
      return;
    }
    fill(list, items.map(registrationItem));
  } catch (error) {
    fill(list, h("li", { class: "problem", text: describe(error) }));
  }
}

function registrationItem(r) {
  const button = h("button", {
    type: "button",
    class: "primary",
    dataset: { action: "confirm", id: r.id },
    text: t("console.queue.confirm"),
    "aria-label": t("console.queue.confirm_named", { id: r.id }),
  });
  const item = h(
    "li",
    { class: "card", dataset: { registration: r.id } },
    h("p", { class: "card-title", text: t("console.queue.registration_title", { id: r.id, resident: r.resident_id }) }),
    h(
      "dl",
      { class: "facts" },
      fact(t("console.field.district"), district(r.district)),
      fact(t("console.field.address"), r.address),
      fact(t("console.field.start"), day(r.start)),
      fact(t("console.field.end"), day(r.end)),
      fact(t("console.field.declared_at"), instant(r.created_at)),
    ),
    button,
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await call(`/v1/residences/${r.id}/confirm`, { method: "POST", body: {} });
      announce(t("console.queue.confirmed", { id: r.id }));
      item.remove();
      if (!$("#registrations").children.length) loadRegistrations();
    } catch (error) {
      button.disabled = false;
      alertProblem(error);
    }
  });
  return item;
}

/** A `<dt>`/`<dd>` pair. */
export function fact(term, value) {
  const wrap = document.createElement("div");
  wrap.append(h("dt", { text: term }), h("dd", { text: value ?? "" }));
  return wrap;
}

async function loadApplications() {
  const list = $("#applications");
  try {
    const { items } = await call("/v1/applications?status=submitted");
    if (!items.length) {
      fill(list, h("li", { class: "muted", text: t("console.queue.applications_empty") }));
      return;
    }
    fill(list, items.map(applicationItem));
  } catch (error) {
    fill(list, h("li", { class: "problem", text: describe(error) }));
  }
}

function applicationItem(a) {
  const open = h("button", {
    type: "button",
    dataset: { action: "open-application", id: a.id },
    text: t("console.queue.open"),
    "aria-label": t("console.queue.open_named", { id: a.id }),
  });
  open.addEventListener("click", () => openApplication(a));
  return h(
    "li",
    { class: "card", dataset: { application: a.id } },
    h("p", { class: "card-title", text: t("console.queue.application_title", { id: a.id, resident: a.resident_id }) }),
    h(
      "dl",
      { class: "facts" },
      fact(t("console.field.basis"), basis(a.basis)),
      fact(t("console.field.district"), district(a.district)),
      fact(t("console.field.submitted_at"), instant(a.submitted_at)),
    ),
    open,
  );
}

/** Shows application `a` with its evidence, and the approve / reject controls. */
function openApplication(a) {
  const panel = $("#application-detail");
  panel.hidden = false;
  const evidence = h("div", { class: "evidence", id: "evidence" });
  const outcome = h("p", { id: "decision-outcome", class: "message", role: "status", "aria-live": "polite" });
  const approve = h("button", { type: "button", class: "primary", id: "approve", text: t("console.review.approve") });
  const reason = h("textarea", { id: "reject-reason", name: "reason", rows: 3, minlength: 2, maxlength: 500, required: true });
  const rejectForm = h(
    "form",
    { id: "reject-form", class: "stack", novalidate: true },
    h("label", { for: "reject-reason", text: t("console.review.reason") }),
    reason,
    h("p", { class: "hint", id: "reject-hint", text: t("console.review.reason_hint") }),
    h("button", { type: "submit", class: "danger", id: "reject", text: t("console.review.reject") }),
  );
  reason.setAttribute("aria-describedby", "reject-hint");
  const heading = h("h3", { tabindex: "-1", text: t("console.review.heading", { id: a.id }) });
  fill(
    panel,
    heading,
    h(
      "dl",
      { class: "facts" },
      fact(t("console.field.resident"), String(a.resident_id)),
      fact(t("console.field.basis"), basis(a.basis)),
      fact(t("console.field.district"), district(a.district)),
      fact(t("console.field.submitted_at"), instant(a.submitted_at)),
      fact(t("console.field.evidence_sha256"), a.evidence_sha256),
    ),
    h("h4", { text: t("console.evidence.heading") }),
    evidence,
    h("div", { class: "actions" }, approve),
    rejectForm,
    outcome,
  );
  heading.focus();
  showEvidence(evidence, a.id);

  const done = (sentence) => {
    outcome.className = "message ok";
    outcome.textContent = sentence;
    approve.disabled = true;
    for (const el of rejectForm.elements) el.disabled = true;
    document.querySelector(`[data-application="${a.id}"]`)?.remove();
    if (!$("#applications").children.length) loadApplications();
  };
  const refused = (error) => {
    outcome.className = "message bad";
    outcome.textContent = describe(error);
    approve.disabled = false;
  };

  approve.addEventListener("click", async () => {
    approve.disabled = true;
    outcome.className = "message";
    outcome.textContent = t("console.working");
    try {
      const permit = await call(`/v1/applications/${a.id}/approve`, { method: "POST", body: {} });
      done(t("console.review.approved", { id: a.id, number: permit.number }));
    } catch (error) {
      refused(error);
    }
  });
  rejectForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (text.length < 2) {
      outcome.className = "message bad";
      outcome.textContent = t("console.review.reason_required");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    reason.removeAttribute("aria-invalid");
    try {
      await call(`/v1/applications/${a.id}/reject`, { method: "POST", body: { reason: text } });
      done(t("console.review.rejected", { id: a.id }));
    } catch (error) {
      refused(error);
    }
  });
}

/** Closes the open application (when leaving the view). */
export function closeApplication() {
  releaseEvidence();
  const panel = $("#application-detail");
  if (panel) {
    panel.hidden = true;
    panel.replaceChildren();
  }
}
