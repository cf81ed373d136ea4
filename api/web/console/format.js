// How the console writes dates, instants, districts, roles and permit states in the page's
// language.
import { DISTRICTS, districtName } from "/web/districts.js";
import { t, lang } from "/web/i18n.js";

/** An RFC 3339 instant in the page's language and the local time zone. */
export function instant(text) {
  if (!text) return "";
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  return new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "medium" }).format(date);
}

/** A `YYYY-MM-DD` day, as written. */
export function day(text) {
  return text || t("console.none");
}

/** A district code with its name (`婺城区 (330702)`), from the shared `common.district.*`. */
export function district(code) {
  if (code === undefined || code === null || code === "") return t("console.none");
  const text = String(code);
  return DISTRICTS.includes(text) ? `${districtName(text)} (${text})` : text;
}

/** `officer` → the role in words. */
export function role(code) {
  return ["officer", "admin", "verifier"].includes(code) ? t(`console.role.${code}`) : code;
}

/** A basis of application in words. */
export function basis(code) {
  return ["employment", "housing", "study"].includes(code) ? t(`console.basis.${code}`) : code;
}

const STATES = { active: "✓", suspended: "‖", revoked: "✗" };

/** A permit's state as a badge: icon, word and colour (never colour alone). */
export function permitState(status) {
  const span = document.createElement("span");
  span.className = `badge badge-${status in STATES ? status : "unknown"}`;
  const icon = document.createElement("span");
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = STATES[status] ?? "?";
  span.append(icon, " ", status in STATES ? t(`console.permit.state.${status}`) : String(status));
  return span;
}
