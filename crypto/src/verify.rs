//! THE verification algorithm of SPEC §2, shared by the API and the mobile SDK: QR text in, one
//! verdict, an assurance, warnings and the decoded permit out. Nothing here fails: every problem is
//! a [`Verdict`] or a [`Warning`].
//!
//! Order of checks (the first that fails decides the verdict):
//! 1. decode the text, the presentation and the credential → `malformed`;
//! 2. the credential's `kid` is in the trust list, and that key's district is the credential's
//!    residence district (the district that signs, SPEC §1.3/§1.4) → `unknown_issuer`;
//! 3. the key is not compromised → `issuer_key_compromised` (retired keys still verify);
//! 4. `iat` lies in the key's `[not_before, not_after)` → `key_not_valid_at_issuance`;
//! 5. the issuer's signature → `bad_signature`;
//! 6. for `EPP1:` only: the holder's signature under the credential's `cnf` (no `cnf` fails too)
//!    → `bad_holder_signature`; then `|now − presented_at| ≤ max_presentation_age` and, when the
//!    verifier set a challenge, the presentation answers exactly it → `presentation_stale`;
//! 7. `now < iat` → `not_yet_valid`; 8. `now ≥ exp` → `endorsement_overdue`;
//! 9. the status list held for the credential's `status.uri` (a [`StatusSource`]: one list, or
//!    many shards keyed by URI): 1 → `revoked`, 2 → `suspended`, 3 → `superseded` (a newer signed
//!    version of the same permit exists, so this copy is no longer in force);
//! 10. `valid`, assurance `holder_bound` for `EPP1:`, `unbound` for `EP1:` (check the photo ID).
//!
//! Warnings: `status_unknown` when step 9 cannot be answered (no list held for the credential's
//! URI, that list expired, or the index beyond it); `trust_list_stale` when `now ≥ expires_at` of
//! the trust list; `clock_suspect` when `now` is earlier than the newest `issued_at` of the trust
//! list and the status lists held ([`StatusSource::newest_issued_at`]).

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::permit::{Credential, PermitClaims};
use crate::presentation::Presentation;
use crate::qr_text::{self, QrKind};
use crate::status_list::Status;
use crate::status_source::StatusSource;
use crate::trust_list::{KeyState, TrustList};

/// The outcome of a verification (SPEC §2 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Genuine and in force.
    Valid,
    /// Not a well-formed `EP1:`/`EPP1:` text.
    Malformed,
    /// Signed by a key the trust list does not name for the credential's district.
    UnknownIssuer,
    /// Signed by a key marked compromised.
    IssuerKeyCompromised,
    /// Issued (`iat`) outside the signing key's validity.
    KeyNotValidAtIssuance,
    /// The issuer's signature does not verify.
    BadSignature,
    /// The holder's signature does not verify, or the credential has no holder key.
    BadHolderSignature,
    /// The presentation is too old (or from the future), or does not answer the challenge.
    PresentationStale,
    /// Issued after `now`.
    NotYetValid,
    /// Past `exp`: the annual endorsement is overdue (SPEC §1.4).
    EndorsementOverdue,
    /// Suspended by the issuing bureau.
    Suspended,
    /// A newer signed version of the same permit exists (status 3): this copy is no longer in
    /// force; the holder should show the current one.
    Superseded,
    /// Revoked.
    Revoked,
}

impl Verdict {
    /// Every verdict, in check order.
    pub const ALL: [Verdict; 13] = [
        Verdict::Malformed,
        Verdict::UnknownIssuer,
        Verdict::IssuerKeyCompromised,
        Verdict::KeyNotValidAtIssuance,
        Verdict::BadSignature,
        Verdict::BadHolderSignature,
        Verdict::PresentationStale,
        Verdict::NotYetValid,
        Verdict::EndorsementOverdue,
        Verdict::Suspended,
        Verdict::Superseded,
        Verdict::Revoked,
        Verdict::Valid,
    ];

    /// The snake_case code (as serialised).
    pub const fn code(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Malformed => "malformed",
            Verdict::UnknownIssuer => "unknown_issuer",
            Verdict::IssuerKeyCompromised => "issuer_key_compromised",
            Verdict::KeyNotValidAtIssuance => "key_not_valid_at_issuance",
            Verdict::BadSignature => "bad_signature",
            Verdict::BadHolderSignature => "bad_holder_signature",
            Verdict::PresentationStale => "presentation_stale",
            Verdict::NotYetValid => "not_yet_valid",
            Verdict::EndorsementOverdue => "endorsement_overdue",
            Verdict::Suspended => "suspended",
            Verdict::Superseded => "superseded",
            Verdict::Revoked => "revoked",
        }
    }
}

/// How strongly a `valid` permit is tied to the person presenting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// A fresh presentation signed by the holder's device key.
    HolderBound,
    /// A static credential: anyone may show it; check the photo ID.
    Unbound,
}

/// Something the verifier should know although it does not change the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// The status could not be checked (no list for the credential's URI, expired, index beyond).
    StatusUnknown,
    /// The trust list held has passed its expires-at.
    TrustListStale,
    /// The device clock is earlier than the newest list it holds was issued.
    ClockSuspect,
}

impl Assurance {
    /// Every assurance.
    pub const ALL: [Assurance; 2] = [Assurance::HolderBound, Assurance::Unbound];
}

impl Warning {
    /// Every warning, in their order.
    pub const ALL: [Warning; 3] = [
        Warning::StatusUnknown,
        Warning::TrustListStale,
        Warning::ClockSuspect,
    ];

    /// The snake_case code (as serialised).
    pub const fn code(self) -> &'static str {
        match self {
            Warning::StatusUnknown => "status_unknown",
            Warning::TrustListStale => "trust_list_stale",
            Warning::ClockSuspect => "clock_suspect",
        }
    }
}

/// What the verifier asks for beyond the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The largest `|now − presented_at|` accepted for `EPP1:` (default 120 s, SPEC §2).
    pub max_presentation_age: TimeDelta,
    /// A challenge the presentation must carry exactly (a verifier doing a live exchange).
    pub expected_challenge: Option<Vec<u8>>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            max_presentation_age: TimeDelta::seconds(120),
            expected_challenge: None,
        }
    }
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// For `valid` only: holder-bound (`EPP1:`) or unbound (`EP1:`).
    pub assurance: Option<Assurance>,
    /// Warnings, in the order of [`Warning`].
    pub warnings: Vec<Warning>,
    /// The decoded permit, whenever it could be decoded (whatever the verdict), so the verifier
    /// can show what was presented next to the verdict.
    pub permit: Option<PermitClaims>,
}

impl Verification {
    /// The SPEC §3 report at the permit's residence district on the Asia/Shanghai day of `now`,
    /// from what the credential states ([`PermitClaims::report`]). `None` unless the issuer's
    /// signature verified (verdicts from `bad_holder_signature` on), so it is never computed from
    /// forged data. The permit's status follows the verdict: `suspended` and `revoked` give that
    /// status; `endorsement_overdue` gives the lapse SPEC §1.4 defines (open from the missed
    /// anniversary, the Asia/Shanghai day of `exp`); otherwise active.
    pub fn report(&self, now: DateTime<Utc>) -> Option<policy::Report> {
        use policy::PermitStatus;
        use policy::calendar::day_in_shanghai;
        let claims = self.permit.as_ref()?;
        let (status, lapse) = match self.verdict {
            Verdict::Malformed
            | Verdict::UnknownIssuer
            | Verdict::IssuerKeyCompromised
            | Verdict::KeyNotValidAtIssuance
            | Verdict::BadSignature => return None,
            Verdict::Suspended => (PermitStatus::Suspended, None),
            Verdict::Revoked => (PermitStatus::Revoked, None),
            Verdict::EndorsementOverdue => (
                PermitStatus::Active,
                policy::Lapse::new(day_in_shanghai(claims.expires_at), None).ok(),
            ),
            Verdict::Valid
            | Verdict::Superseded
            | Verdict::BadHolderSignature
            | Verdict::PresentationStale
            | Verdict::NotYetValid => (PermitStatus::Active, None),
        };
        Some(claims.report(claims.residence, day_in_shanghai(now), status, lapse))
    }
}

/// Verifies an `EP1:` or `EPP1:` text offline against a trust list and the status lists held
/// (`&None::<&StatusList>` for none, one [`crate::StatusList`], or a map of shards by URI). See
/// the module documentation for the order of checks.
pub fn verify(
    text: &str,
    trust: &TrustList,
    status: &dyn StatusSource,
    now: DateTime<Utc>,
    options: &VerifyOptions,
) -> Verification {
    let mut warnings = Vec::new();
    let (verdict, assurance, permit) = check(text, trust, status, now, options, &mut warnings);
    if now >= trust.expires_at {
        warnings.push(Warning::TrustListStale);
    }
    let newest = status
        .newest_issued_at()
        .map_or(trust.issued_at, |s| s.max(trust.issued_at));
    if now < newest {
        warnings.push(Warning::ClockSuspect);
    }
    Verification {
        verdict,
        assurance: if verdict == Verdict::Valid {
            assurance
        } else {
            None
        },
        warnings,
        permit,
    }
}

type Outcome = (Verdict, Option<Assurance>, Option<PermitClaims>);

fn check(
    text: &str,
    trust: &TrustList,
    status: &dyn StatusSource,
    now: DateTime<Utc>,
    options: &VerifyOptions,
    warnings: &mut Vec<Warning>,
) -> Outcome {
    let Ok((kind, cose)) = qr_text::decode(text) else {
        return (Verdict::Malformed, None, None);
    };
    let decoded = match kind {
        QrKind::Permit => Credential::from_cose(&cose).map(|c| Decoded::Permit(Box::new(c))),
        QrKind::Presentation => {
            Presentation::from_cose(&cose).map(|p| Decoded::Presentation(Box::new(p)))
        }
    };
    let Ok(decoded) = decoded else {
        return (Verdict::Malformed, None, None);
    };
    let (credential, presentation) = match &decoded {
        Decoded::Permit(c) => (c.as_ref(), None),
        Decoded::Presentation(p) => (p.credential(), Some(p.as_ref())),
    };
    let kid = credential.kid();
    let claims = credential.claims();
    let fail = |v: Verdict| (v, None, Some(claims.clone()));

    let Some(key) = trust.key(&kid) else {
        return fail(Verdict::UnknownIssuer);
    };
    if key.district != claims.residence {
        return fail(Verdict::UnknownIssuer);
    }
    if key.state == KeyState::Compromised {
        return fail(Verdict::IssuerKeyCompromised);
    }
    if !key.covers(claims.issued_at) {
        return fail(Verdict::KeyNotValidAtIssuance);
    }
    if credential.verify_signature(&key.public_key).is_err() {
        return fail(Verdict::BadSignature);
    }
    if let Some(holder) = &presentation {
        let bound = claims
            .holder_key
            .as_ref()
            .is_some_and(|k| holder.verify_holder_signature(k).is_ok());
        if !bound {
            return fail(Verdict::BadHolderSignature);
        }
        let age = (now - holder.presented_at()).abs();
        let challenge_ok = options
            .expected_challenge
            .as_ref()
            .is_none_or(|expected| holder.challenge() == Some(expected.as_slice()));
        if age > options.max_presentation_age || !challenge_ok {
            return fail(Verdict::PresentationStale);
        }
    }
    if now < claims.issued_at {
        return fail(Verdict::NotYetValid);
    }
    if now >= claims.expires_at {
        return fail(Verdict::EndorsementOverdue);
    }
    let known = status
        .status_list(&claims.status.uri)
        .filter(|s| now < s.expires_at && s.uri == claims.status.uri)
        .and_then(|s| s.get(claims.status.index));
    match known {
        Some(Status::Invalid) => return fail(Verdict::Revoked),
        Some(Status::Suspended) => return fail(Verdict::Suspended),
        // Status 3, application-specific in the draft: here "superseded".
        Some(Status::Superseded) => return fail(Verdict::Superseded),
        Some(Status::Valid) => {}
        None => warnings.push(Warning::StatusUnknown),
    }
    let assurance = if presentation.is_some() {
        Assurance::HolderBound
    } else {
        Assurance::Unbound
    };
    (Verdict::Valid, Some(assurance), Some(claims.clone()))
}

enum Decoded {
    Permit(Box<Credential>),
    Presentation(Box<Presentation>),
}
