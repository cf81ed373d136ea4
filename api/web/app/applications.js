// Applying for the permit with evidence (`POST /v1/applications`, multipart, with an
// `Idempotency-Key` so a retry after a lost answer does not apply twice) and following the
// applications (`GET /v1/applications`): state and rejection reason.

import { authed } from "/web/api.js";
import { t } from "/web/i18n.js";
import { announce, busy, byId, day, el } from "./dom.js";
import { districtName } from "./districts.js";

const ICONS = { submitted: "○", approved: "✔", rejected: "✖" };

/** The key of the submission being attempted: kept across retries of the same form contents. */
let pending = null;

function item(a) {
  return el(
    "li",
    { class: `card application state-${a.status}`, dataset: { id: a.id, status: a.status } },
    el("p", {}, `${t(`app.apply.basis.${a.basis}`)} · ${districtName(a.district)}`),
    el("p", { class: "muted" }, t("app.apply.submitted_on", { date: day(a.submitted_at.slice(0, 10)) })),
    el(
      "p",
      { class: `badge badge-${a.status}` },
      el("span", { "aria-hidden": "true" }, ICONS[a.status] || "•"),
      " ",
      t(`app.apply.state.${a.status}`),
    ),
    a.reason ? el("p", { class: "reason" }, t("app.apply.reason", { reason: a.reason })) : null,
  );
}

/** Loads and shows the applications, newest first; the form hides while one is pending. */
export async function loadApplications(sess) {
  const { items } = await authed(sess, "/v1/applications");
  byId("apply-list").replaceChildren(...items.slice().reverse().map(item));
  byId("apply-empty").hidden = items.length > 0;
  const waiting = items.some((a) => a.status === "submitted");
  byId("apply-form").hidden = waiting;
  byId("apply-waiting").hidden = !waiting;
  return items;
}

/** Wires the application form. */
export function setUpApplications(sess, onSubmitted) {
  const form = byId("apply-form");
  const file = byId("apply-evidence");
  const fingerprint = () => {
    const f = file.files[0];
    return f ? `${byId("apply-basis").value}|${f.name}|${f.size}|${f.lastModified}` : "";
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(byId("apply-submit"), byId("apply-error"), async () => {
      if (!file.files[0]) {
        throw Object.assign(new Error("evidence"), { type: "missing_field" });
      }
      if (!pending || pending.fingerprint !== fingerprint()) {
        pending = { fingerprint: fingerprint(), key: crypto.randomUUID() };
      }
      const data = new FormData();
      data.append("basis", byId("apply-basis").value);
      data.append("evidence", file.files[0], file.files[0].name);
      await authed(sess, "/v1/applications", {
        method: "POST",
        form: data,
        headers: { "Idempotency-Key": pending.key },
      });
      pending = null;
      form.reset();
      announce(t("app.apply.sent"));
      await loadApplications(sess);
      await onSubmitted?.();
    });
  });
}
