// The result panel: the engine's verification in plain words, a colour and an icon (never colour
// alone), the permit's details for `valid`, the photo-ID instruction for `unbound`, every warning
// explained and, at a school desk, the residence days and the SPEC §3 report.

import { districtName } from "/web/districts.js";
import { el } from "/web/dom.js";
import { t, lang } from "/web/i18n.js";

const ICONS = { ok: "✔", warn: "⚠", bad: "✖" };

/**
 * Tone of a verification: `ok`, `warn` (valid, but the photo ID must be checked or a warning
 * asks for care) or `bad`.
 */
function tone(result) {
  if (result.verdict !== "valid") return "bad";
  return result.assurance === "unbound" || result.warnings?.length ? "warn" : "ok";
}

/** An engine time (Unix seconds, or an RFC 3339 / ISO date string) as a Date. */
function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return new Date(value * 1000);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00+08:00`);
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A day in Asia/Shanghai, in the page's language. */
export function formatDay(value) {
  const date = toDate(value);
  if (!date) return t("desk.none");
  return new Intl.DateTimeFormat(lang(), { timeZone: "Asia/Shanghai", dateStyle: "long" }).format(date);
}

/** A moment in Asia/Shanghai, in the page's language. */
export function formatMoment(value) {
  const date = toDate(value);
  if (!date) return t("desk.none");
  return new Intl.DateTimeFormat(lang(), {
    timeZone: "Asia/Shanghai",
    dateStyle: "medium",
    timeStyle: "short",
  }).format(date);
}

function details(rows) {
  const list = el("dl", { class: "desk-details" });
  for (const [key, value, field] of rows) {
    list.append(el("dt", {}, t(key)), el("dd", { "data-field": field }, value));
  }
  return list;
}

/** The permit's fields (names as the engine gives them, tolerant of the SDK's names). */
function permitFields(permit) {
  return {
    number: permit.number,
    name: permit.name,
    maskedId: permit.masked_id_number ?? permit.id_number,
    district: permit.district ?? permit.residence,
    address: permit.address,
    expiresAt: permit.expires_at,
  };
}

function heading(result) {
  if (result.verdict === "valid") {
    return t(result.assurance === "unbound" ? "desk.verdict.valid_unbound" : "desk.verdict.valid_holder_bound");
  }
  return t(`desk.verdict.${result.verdict}`);
}

function explanation(result) {
  if (result.verdict === "valid") {
    return t(result.assurance === "unbound" ? "desk.verdict.valid_unbound.explain" : "desk.verdict.valid_holder_bound.explain");
  }
  return t(`desk.verdict.${result.verdict}.explain`);
}

function reportSection(report) {
  const section = el("section", { class: "desk-report", "data-field": "report" });
  section.append(el("h3", {}, t("desk.report.heading", { district: districtName(report.target) })));
  const atTarget = report.continuous_at_target || { days: 0 };
  const inJinhua = report.continuous_in_jinhua || { days: 0 };
  section.append(details([
    ["desk.report.as_of", formatDay(report.as_of), "report-as-of"],
    ["desk.report.registered_at_target", t(report.registered_at_target ? "desk.yes" : "desk.no"), "report-registered"],
    ["desk.report.continuous_at_target", t("desk.days", { days: atTarget.days }), "residence-days"],
    ["desk.report.continuous_in_jinhua", t("desk.days", { days: inJinhua.days }), "jinhua-days"],
    ["desk.report.cumulative", t("desk.days", { days: report.cumulative_in_jinhua_days }), "cumulative-days"],
  ]));
  const rules = el("ul", { class: "desk-rules" });
  for (const rule of report.rules || []) {
    const need = rule.rule === "continuous"
      ? t("desk.report.rule.continuous", { months: rule.required_months })
      : t("desk.report.rule.cumulative", { days: rule.required_days, months: rule.required_continuous_months });
    const when = rule.met
      ? t("desk.report.rule.met", { date: formatDay(rule.met_on) })
      : rule.met_on ? t("desk.report.rule.met_on", { date: formatDay(rule.met_on) }) : t("desk.report.rule.not_met");
    rules.append(el("li", { class: rule.met ? "met" : "unmet" },
      el("span", { class: "desk-rule-icon", "aria-hidden": "true" }, rule.met ? ICONS.ok : ICONS.bad), ` ${need}: ${when}`));
  }
  section.append(rules);
  for (const blocker of report.blockers || []) {
    section.append(el("p", { class: "desk-blocker" }, t(`desk.blocker.${blocker}`)));
  }
  section.append(el("p", { class: "desk-eligible", "data-field": "eligible" },
    t(report.eligible ? "desk.report.eligible" : "desk.report.not_eligible")));
  return section;
}

/**
 * Fills `panel` with `result` (the engine's verification). `kind` is the desk setting
 * (`school`, `hospital`, `police`).
 */
export function renderResult(panel, result, kind) {
  const mood = tone(result);
  panel.replaceChildren();
  panel.dataset.state = "result";
  panel.dataset.verdict = result.verdict;
  panel.dataset.tone = mood;
  if (result.assurance) panel.dataset.assurance = result.assurance;
  else delete panel.dataset.assurance;

  panel.append(el("div", { class: "desk-verdict" },
    el("span", { class: "desk-icon", "aria-hidden": "true" }, ICONS[mood]),
    el("h2", { class: "desk-verdict-title", "data-field": "verdict" }, heading(result))));
  panel.append(el("p", { class: "desk-explain", "data-field": "explain" }, explanation(result)));

  // Warnings first: they qualify everything below.
  if (result.warnings?.length) {
    const list = el("ul", { class: "desk-warnings", "data-field": "warnings" });
    for (const warning of result.warnings) {
      list.append(el("li", { "data-warning": warning },
        el("span", { class: "desk-warning-icon", "aria-hidden": "true" }, ICONS.warn), ` ${t(`desk.warning.${warning}`)}`));
    }
    panel.append(list);
  }

  const permit = result.permit;
  if (permit && result.verdict === "valid") {
    const p = permitFields(permit);
    panel.append(details([
      ["desk.permit.name", p.name, "name"],
      ["desk.permit.id_number", p.maskedId, "id-number"],
      ["desk.permit.district", districtName(p.district), "district"],
      ["desk.permit.address", p.address, "address"],
      // `exp` is 00:00 Asia/Shanghai of the anniversary: the last day in force is the day before.
      ["desk.permit.valid_until", formatDay(typeof p.expiresAt === "number" ? p.expiresAt - 1 : p.expiresAt), "valid-until"],
      ["desk.permit.number", p.number, "number"],
    ]));
  } else if (permit && result.report) {
    // The issuer's signature verified: say which permit this verdict is about.
    const p = permitFields(permit);
    panel.append(details([
      ["desk.permit.number", p.number, "number"],
      ["desk.permit.name", p.name, "name"],
    ]));
  }

  if (kind === "school" && result.verdict === "valid" && result.report) {
    panel.append(reportSection(result.report));
  }
}

/** The idle panel: what to do next. */
export function renderIdle(panel) {
  panel.replaceChildren(el("p", { class: "desk-idle" }, t("desk.result.idle")));
  panel.dataset.state = "idle";
  delete panel.dataset.verdict;
  delete panel.dataset.tone;
  delete panel.dataset.assurance;
}

/** A problem of the desk itself (no engine, no lists), in words. */
export function renderProblem(panel, key) {
  panel.replaceChildren(el("div", { class: "desk-verdict" },
    el("span", { class: "desk-icon", "aria-hidden": "true" }, ICONS.bad),
    el("h2", { class: "desk-verdict-title" }, t(key))));
  panel.dataset.state = "problem";
  panel.dataset.tone = "bad";
  panel.dataset.verdict = "none";
  delete panel.dataset.assurance;
}

/** The answer of `POST /v1/verify`, beside the offline one. */
export function renderLive(box, result) {
  const mood = tone(result);
  box.replaceChildren(
    el("h3", {}, t("desk.live.heading")),
    el("p", { class: "desk-live-verdict", "data-tone": mood, "data-verdict": result.verdict },
      el("span", { class: "desk-icon-small", "aria-hidden": "true" }, ICONS[mood]), ` ${heading(result)}`),
    el("p", {}, explanation(result)),
  );
}

/** The lists held, their age against their ttl, stale ones marked. */
export function renderLists(body, state) {
  body.replaceChildren();
  for (const list of state.lists || []) {
    const kind = list.kind === "trust_list" ? t("desk.lists.trust_list") : t("desk.lists.status_list");
    const ttl = list.ttl_seconds ?? null;
    const status = list.expired ? "expired" : list.stale ? "stale" : "fresh";
    const row = el("tr", { "data-list": list.kind, "data-stale": String(Boolean(list.stale)) },
      el("th", { scope: "row" }, kind),
      el("td", {}, duration(list.age_seconds)),
      el("td", {}, ttl === null ? t("desk.lists.until", { date: formatMoment(list.expires_at) }) : duration(ttl)),
      el("td", { class: `desk-list-${status}` },
        el("span", { "aria-hidden": "true" }, status === "fresh" ? ICONS.ok : ICONS.warn), ` ${t(`desk.lists.${status}`)}`));
    body.append(row);
  }
}

/** Seconds as minutes, hours or days, in words. */
export function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 120) return t("desk.duration.seconds", { n: s });
  if (s < 7200) return t("desk.duration.minutes", { n: Math.round(s / 60) });
  if (s < 172800) return t("desk.duration.hours", { n: Math.round(s / 3600) });
  return t("desk.duration.days", { n: Math.round(s / 86400) });
}
