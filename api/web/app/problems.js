// The API's problem documents (`type`, the stable code) as sentences in the reader's language.
// A code this app has no sentence for still shows the service's own words, never a blank.

import { t } from "/web/i18n.js";

/** Codes whose sentence is in the catalogue as `app.problem.<code>`. */
const KNOWN = new Set([
  "application_decided",
  "application_pending",
  "application_refused",
  "bad_proof",
  "challenge_expired",
  "code_cool_down",
  "code_expired",
  "daily_limit",
  "date_before_1970",
  "district_not_in_jinhua",
  "end_before_start",
  "end_in_future",
  "endorsed_today",
  "endorsement_too_early",
  "evidence_too_large",
  "id_number_fixed",
  "id_number_unavailable",
  "invalid_address",
  "invalid_code",
  "invalid_date",
  "invalid_district",
  "invalid_id_number",
  "invalid_name",
  "invalid_phone",
  "missing_field",
  "name_fixed",
  "permit_held",
  "permit_revoked",
  "profile_incomplete",
  "rate_limited",
  "registration_ended",
  "registration_open",
  "sms_unavailable",
  "start_in_future",
  "start_too_far_in_past",
  "too_many_attempts",
  "unauthorized",
  "unsupported_evidence_type",
  "wrong_code",
]);

/** Unmet conditions of SPEC §1.2 (`application_refused`'s `unmet`), as `app.unmet.<condition>`. */
const UNMET = new Set([
  "not_registered_in_district",
  "continuous_residence_under_six_months",
  "no_basis",
  "no_evidence",
]);

/** One sentence (or a few) saying what went wrong and what to do. */
export function problemText(err) {
  const type = err && err.type;
  if (!type) {
    // fetch() failing is a TypeError: the network, not the reader.
    if (err instanceof TypeError) return t("common.error.network");
    return t("app.problem.unknown", { detail: (err && err.message) || "" });
  }
  const extra = err.problem || {};
  const params = {
    retry: err.retryAfter ?? "",
    attempts: extra.attempts_left ?? "",
    detail: err.detail || err.title || type,
    opens: extra.window_opens ?? "",
    anniversary: extra.anniversary ?? "",
  };
  if (type === "network") return t("common.error.network");
  let text = KNOWN.has(type)
    ? t(`app.problem.${type}`, params)
    : t("app.problem.unknown", { detail: params.detail });
  const unmet = extra.unmet;
  if (type === "application_refused" && Array.isArray(unmet)) {
    const reasons = unmet.map((u) =>
      UNMET.has(u.condition)
        ? t(`app.unmet.${u.condition}`, { met_on: u.met_on ?? t("app.none") })
        : u.condition,
    );
    text = `${text} ${reasons.join(" ")}`;
  }
  return text;
}
