// Residence registrations (SPEC §1.1): declare (`POST /v1/residences`), end
// (`POST /v1/residences/{id}/end`) and list (`GET /v1/residences`) with their state.

import { authed } from "/web/api.js";
import { t } from "/web/i18n.js";
import { announce, busy, byId, day, el, todayInShanghai } from "./dom.js";
import { districtName, fillDistricts } from "./districts.js";

/** `declared`, `confirmed` or `ended`, as the reader sees it. */
function stateOf(r) {
  return r.end ? "ended" : r.status;
}

/** One registration as a list item, with the form to end it while it is open. */
function item(sess, r, reload) {
  const state = stateOf(r);
  const li = el(
    "li",
    { class: `card registration state-${state}`, dataset: { id: r.id, state } },
    el("p", { class: "reg-place" }, `${districtName(r.district)} · ${r.address}`),
    el(
      "p",
      { class: "reg-dates" },
      r.end
        ? t("app.reg.period_ended", { start: day(r.start), end: day(r.end) })
        : t("app.reg.period_open", { start: day(r.start) }),
    ),
    el(
      "p",
      { class: `badge badge-${state}` },
      el("span", { "aria-hidden": "true" }, { declared: "○", confirmed: "✔", ended: "■" }[state]),
      " ",
      t(`app.reg.state.${state}`),
    ),
  );
  if (!r.end) {
    const id = `reg-end-${r.id}`;
    const input = el("input", { id, type: "date", required: true, value: todayInShanghai() });
    const button = el("button", { type: "submit", class: "secondary" }, t("app.reg.end"));
    const error = el("p", { class: "message bad", role: "alert", hidden: true });
    const form = el(
      "form",
      { class: "reg-end" },
      el("label", { for: id }, t("app.reg.end_date")),
      input,
      button,
      error,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await busy(button, error, async () => {
        await authed(sess, `/v1/residences/${r.id}/end`, {
          method: "POST",
          body: { end: input.value },
        });
        announce(t("app.reg.ended"));
        await reload();
      });
    });
    li.append(form);
  }
  return li;
}

/** Loads and shows the registrations; the declare form shows while none is open. */
export async function loadRegistrations(sess) {
  const { items } = await authed(sess, "/v1/residences");
  const reload = () => loadRegistrations(sess);
  const list = byId("reg-list");
  list.replaceChildren(...items.slice().reverse().map((r) => item(sess, r, reload)));
  byId("reg-empty").hidden = items.length > 0;
  const open = items.some((r) => !r.end);
  byId("reg-form").hidden = open;
  byId("reg-open-note").hidden = !open;
  return items;
}

/** Wires the declare form. */
export function setUpRegistrations(sess) {
  fillDistricts(byId("reg-district"));
  const start = byId("reg-start");
  start.max = todayInShanghai();
  if (!start.value) start.value = todayInShanghai();
  byId("reg-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(byId("reg-declare"), byId("reg-error"), async () => {
      await authed(sess, "/v1/residences", {
        method: "POST",
        body: {
          district: byId("reg-district").value,
          address: byId("reg-address").value.trim(),
          start: start.value,
        },
      });
      byId("reg-address").value = "";
      announce(t("app.reg.declared"));
      await loadRegistrations(sess);
    });
  });
}

/** Re-names the districts after a language switch. */
export function relabelRegistrations() {
  fillDistricts(byId("reg-district"));
}

