// The API's refusals in words: a problem document's stable `type` mapped to a translated
// sentence, with the unmet conditions of `application_refused` spelt out.
import { t } from "/web/i18n.js";

/** Problem types the catalogue words (`console.problem.<type>`). */
const KNOWN = new Set([
  "already_confirmed", "application_decided", "application_refused", "busy", "date_before_1970",
  "forbidden", "internal", "invalid_date", "invalid_field", "invalid_limit", "invalid_number",
  "invalid_reason", "invalid_status", "invalid_transition", "login_throttled", "missing_field",
  "network", "not_found", "not_registered", "permit_held", "permit_numbers_exhausted",
  "profile_incomplete", "rate_limited", "service_unavailable", "token_expired", "unauthorized",
  "weak_password",
]);

const UNMET = new Set([
  "continuous_residence_under_six_months", "no_basis", "no_evidence", "not_registered_in_district",
]);

/** One unmet condition of SPEC §1.2 in words. */
export function unmetCondition(unmet) {
  const code = unmet?.condition;
  if (!UNMET.has(code)) return String(code);
  return t(`console.unmet.${code}`, {
    since: unmet.since ?? t("console.none"),
    met_on: unmet.met_on ?? t("console.none"),
  });
}

/**
 * The sentence for an error thrown by an API call: an `ApiProblem` of `/web/api.js` (status,
 * type, detail, retryAfter, and the whole document in `problem`) or anything else thrown.
 */
export function describe(error) {
  const type = error?.type ?? (error?.status ? `status_${error.status}` : "network");
  const seconds = Math.max(1, Math.ceil(Number(error?.retryAfter) || 1));
  if (KNOWN.has(type)) {
    let sentence = t(`console.problem.${type}`, { seconds, field: error?.field ?? "" });
    const unmet = error?.problem?.unmet;
    if (type === "application_refused" && Array.isArray(unmet) && unmet.length) {
      sentence += " " + unmet.map(unmetCondition).join(" ");
    }
    return sentence;
  }
  const status = Number(error?.status);
  if (status >= 500) return t("console.problem.internal");
  if (status) return t("console.problem.other", { status, detail: error?.detail ?? error?.title ?? "" });
  return t("console.problem.network");
}
