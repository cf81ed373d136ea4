// The conversion report (`GET /v1/permits/me/report`, SPEC §3) as a picture: for each rule the
// days counted against the days needed as a bar, the day the rule is (or will be) met, and the
// blockers in plain words. Every number is the API's; nothing of §3 is computed here.

import { authed } from "/web/api.js";
import { t } from "/web/i18n.js";
import { byId, day, el } from "./dom.js";
import { districtName } from "./districts.js";

const SVG = "http://www.w3.org/2000/svg";

/** Whole days from `a` to `b` (both `YYYY-MM-DD`). */
function daysBetween(a, b) {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000);
}

/** A horizontal bar: `counted` of `needed`, green once met. */
function bar(counted, needed, met, label) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 100 10");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "meter");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const track = document.createElementNS(SVG, "rect");
  track.setAttribute("class", "meter-track");
  track.setAttribute("width", "100");
  track.setAttribute("height", "10");
  const fill = document.createElementNS(SVG, "rect");
  const share = needed > 0 ? Math.min(1, counted / needed) : met ? 1 : 0;
  fill.setAttribute("class", met ? "meter-fill met" : "meter-fill");
  fill.setAttribute("width", String(Math.round(share * 1000) / 10));
  fill.setAttribute("height", "10");
  svg.append(track, fill);
  return svg;
}

/** One rule as a figure: its name, the bar, the numbers, and when it is met. */
function ruleFigure(rule, report) {
  const since = report.continuous_at_target.since;
  let counted;
  let needed;
  let what;
  if (rule.rule === "continuous") {
    counted = report.continuous_at_target.days;
    needed = since && rule.met_on ? daysBetween(since, rule.met_on) : null;
    what = t("app.report.rule.continuous", { months: rule.required_months });
  } else {
    counted = report.cumulative_in_jinhua_days;
    needed = rule.required_days;
    what = t("app.report.rule.cumulative", {
      days: rule.required_days,
      months: rule.required_continuous_months,
    });
  }
  const numbers =
    needed === null
      ? t("app.report.counted_only", { counted })
      : t("app.report.counted", { counted, needed });
  const when = rule.met
    ? t("app.report.met_on_past", { date: day(rule.met_on) })
    : rule.met_on
      ? t("app.report.met_on_future", { date: day(rule.met_on) })
      : t("app.report.met_on_none");
  return el(
    "figure",
    {
      class: `rule rule-${rule.rule}${rule.met ? " met" : ""}`,
      dataset: { rule: rule.rule, counted, needed: needed ?? "", met: rule.met, metOn: rule.met_on ?? "" },
    },
    el("figcaption", {}, what),
    bar(counted, needed ?? 0, rule.met, `${what}: ${numbers}`),
    el("p", { class: "numbers" }, numbers),
    el(
      "p",
      { class: rule.met ? "met-on ok" : "met-on" },
      el("span", { "aria-hidden": "true" }, rule.met ? "✔ " : "○ "),
      when,
    ),
  );
}

/** Shows a report. */
export function renderReport(report) {
  byId("report-target").textContent = t("app.report.target", {
    district: districtName(report.target),
    date: day(report.as_of),
  });
  byId("report-rules").replaceChildren(...report.rules.map((rule) => ruleFigure(rule, report)));
  const verdict = byId("report-verdict");
  verdict.className = `verdict ${report.eligible ? "verdict-ok" : "verdict-wait"}`;
  verdict.dataset.eligible = String(report.eligible);
  verdict.replaceChildren(
    el("span", { "aria-hidden": "true" }, report.eligible ? "✔ " : "○ "),
    report.eligible
      ? t("app.report.eligible")
      : report.residence_met
        ? t("app.report.residence_met_blocked")
        : t("app.report.not_yet", { date: day(report.residence_met_on) }),
  );
  const blockers = byId("report-blockers");
  blockers.replaceChildren(
    ...report.blockers.map((b) =>
      el("li", { dataset: { blocker: b } }, el("span", { "aria-hidden": "true" }, "⚠ "), t(`app.blocker.${b}`)),
    ),
  );
  byId("report-no-blockers").hidden = report.blockers.length > 0;
}

/** Loads and shows the report for the permit's district (null when there is no permit). */
export async function loadReport(sess) {
  try {
    const report = await authed(sess, "/v1/permits/me/report");
    byId("report-none").hidden = true;
    byId("report-body").hidden = false;
    renderReport(report);
    return report;
  } catch (err) {
    if (err.status === 404) {
      byId("report-none").hidden = false;
      byId("report-body").hidden = true;
      return null;
    }
    throw err;
  }
}
