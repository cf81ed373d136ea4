// The audit log for administrators (`GET /v1/audit`): filtered by action (prefix), actor and a
// time range, paged forward by the `next_after` cursor (and back by the cursors already seen).
import { t } from "/web/i18n.js";
import { call } from "./account.js";
import { h, $, fill } from "./dom.js";
import { instant } from "./format.js";
import { describe } from "./problems.js";
import { announce } from "./status.js";

const PAGE = 50;
let cursors = [0];

/** Wires the filter form and the paging buttons (once). */
export function setUpAudit() {
  $("#audit-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [0];
    loadAudit();
  });
  $("#audit-next").addEventListener("click", () => {
    const next = Number($("#audit-next").dataset.after);
    if (Number.isFinite(next)) {
      cursors.push(next);
      loadAudit();
    }
  });
  $("#audit-prev").addEventListener("click", () => {
    if (cursors.length > 1) {
      cursors.pop();
      loadAudit();
    }
  });
}

/** A `datetime-local` value as an RFC 3339 instant (empty stays empty). */
function rfc3339(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

let loads = 0;

/** Loads the page at the last cursor with the form's filters (a late earlier answer is dropped). */
export async function loadAudit() {
  const mine = ++loads;
  const params = new URLSearchParams({ after: String(cursors.at(-1)), limit: String(PAGE) });
  const set = (name, value) => value && params.set(name, value);
  set("action", $("#audit-action").value.trim());
  set("actor", $("#audit-actor").value.trim());
  set("since", rfc3339($("#audit-since").value));
  set("until", rfc3339($("#audit-until").value));
  const body = $("#audit-rows");
  const next = $("#audit-next");
  try {
    const page = await call(`/v1/audit?${params}`);
    if (mine !== loads) return;
    fill(body, page.items.map(row));
    $("#audit-empty").hidden = page.items.length > 0;
    next.disabled = page.items.length < PAGE || page.next_after === null;
    next.dataset.after = page.next_after ?? "";
    $("#audit-prev").disabled = cursors.length <= 1;
    $("#audit-page").textContent = t("console.audit.page", { page: cursors.length, count: page.items.length });
    announce(t("console.audit.loaded", { count: page.items.length }));
  } catch (error) {
    if (mine !== loads) return;
    fill(body, h("tr", {}, h("td", { colspan: 5, class: "problem", text: describe(error) })));
    next.disabled = true;
  }
}

function row(entry) {
  const detail = JSON.stringify(entry.detail ?? {});
  return h(
    "tr",
    { dataset: { entry: entry.id, action: entry.action } },
    h("td", { text: String(entry.id) }),
    h("td", {}, h("time", { datetime: entry.at, text: instant(entry.at) })),
    h("td", { text: entry.actor }),
    h("td", {}, h("code", { text: entry.action })),
    h("td", { class: "wrap" }, h("span", { text: entry.subject }), h("br"), h("code", { class: "muted", text: detail === "{}" ? "" : detail })),
  );
}
