//! The JSON the pages read: serde mirrors of the SDK's records, and the one mapping from them.
//! Enums become snake_case strings (`"valid"`, `"holder_bound"`, `"trust_list_stale"`), instants
//! Unix seconds, days `YYYY-MM-DD`, districts six-digit codes; `report` is the SPEC §3 contract
//! JSON itself (the SDK's `contract_json`, byte for byte what the API answers).

use std::time::{SystemTime, UNIX_EPOCH};

use epermit_sdk as sdk;
use serde::Serialize;

/// A verification (SDK `Verification`).
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The SPEC §2 verdict.
    pub verdict: Verdict,
    /// For `valid` only: `holder_bound` or `unbound`.
    pub assurance: Option<Assurance>,
    /// Warnings that do not change the verdict.
    pub warnings: Vec<Warning>,
    /// The permit as the credential states it, whenever it decodes.
    pub permit: Option<Permit>,
    /// The SPEC §3 report JSON, only when the issuer's signature verified.
    pub report: Option<serde_json::Value>,
}

/// SDK `Verdict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Verdict {
    Valid,
    Malformed,
    UnknownIssuer,
    IssuerKeyCompromised,
    KeyNotValidAtIssuance,
    BadSignature,
    BadHolderSignature,
    PresentationStale,
    NotYetValid,
    EndorsementOverdue,
    Suspended,
    Superseded,
    Revoked,
}

/// SDK `Assurance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Assurance {
    HolderBound,
    Unbound,
}

/// SDK `VerifyWarning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Warning {
    StatusUnknown,
    TrustListStale,
    ClockSuspect,
}

/// SDK `Permit`, with the names the screens use: `masked_id_number` (the SDK's `id_number`, which
/// is masked), `district` / `district_name` (the SDK's `residence` / `residence_name`).
#[derive(Debug, Clone, Serialize)]
pub struct Permit {
    /// `330782-2026-000123`.
    pub number: String,
    /// The holder's name.
    pub name: String,
    /// `330702********123X`.
    pub masked_id_number: String,
    /// The residence district's six-digit code.
    pub district: String,
    /// The residence district's Chinese name.
    pub district_name: String,
    /// The address, to street/community level.
    pub address: String,
    /// When this credential was signed (Unix seconds).
    pub issued_at: i64,
    /// End of validity (Unix seconds).
    pub expires_at: i64,
    /// The issuing district's code.
    pub issuer: String,
    /// The holder's device key (64 hex digits), `null` until bound.
    pub holder_key: Option<String>,
    /// Confirmed residence registrations.
    pub periods: Vec<Period>,
    /// Lapses of endorsement.
    pub lapses: Vec<Lapse>,
    /// `YYYY-MM-DD` of the first issue.
    pub first_issued: String,
    /// `YYYY-MM-DD` of the last endorsement.
    pub last_endorsed: Option<String>,
    /// The status list holding the permit's status.
    pub status_list_uri: String,
    /// The permit's index in it.
    pub status_index: u32,
}

/// SDK `ResidencePeriod`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct Period {
    pub district: String,
    pub start: String,
    pub end: Option<String>,
}

/// SDK `Lapse`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct Lapse {
    pub from: String,
    pub until: Option<String>,
}

/// SDK `BundleLoad`.
#[derive(Debug, Clone, Serialize)]
pub struct BundleLoad {
    /// When the bundle was assembled (Unix seconds).
    pub issued_at: i64,
    /// What the trust list did.
    pub trust_list: ListOutcome,
    /// What each status list did, in bundle order.
    pub status_lists: Vec<BundleListLoad>,
}

/// SDK `BundleListLoad`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct BundleListLoad {
    pub uri: Option<String>,
    pub outcome: ListOutcome,
}

/// SDK `ListOutcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ListOutcome {
    Installed,
    Updated,
    Unchanged,
    Refused,
}

/// SDK `Change` (a single list load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Change {
    Installed,
    Updated,
    Unchanged,
}

/// SDK `VerifierState`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct VerifierState {
    pub root_key_ids: Vec<String>,
    pub root_keys_hex: Vec<String>,
    pub trust_list_sequence: Option<u64>,
    pub lists: Vec<ListInfo>,
}

/// SDK `ListInfo`; instants in Unix seconds.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct ListInfo {
    pub kind: ListKind,
    pub uri: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub ttl_seconds: Option<u64>,
    pub age_seconds: i64,
    pub stale: bool,
    pub expired: bool,
}

/// SDK `ListKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ListKind {
    TrustList,
    StatusList,
}

/// Whole Unix seconds (rounded down) of a platform instant.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() == 0 {
                -secs
            } else {
                -secs - 1
            }
        }
    }
}

impl From<sdk::Verification> for Verification {
    fn from(v: sdk::Verification) -> Verification {
        Verification {
            verdict: v.verdict.into(),
            assurance: v.assurance.map(Assurance::from),
            warnings: v.warnings.into_iter().map(Warning::from).collect(),
            permit: v.permit.map(Permit::from),
            // The SDK serialised it from plain data; it parses back.
            report: v
                .report
                .and_then(|r| serde_json::from_str(&r.contract_json).ok()),
        }
    }
}

impl From<sdk::Verdict> for Verdict {
    fn from(v: sdk::Verdict) -> Verdict {
        match v {
            sdk::Verdict::Valid => Verdict::Valid,
            sdk::Verdict::Malformed => Verdict::Malformed,
            sdk::Verdict::UnknownIssuer => Verdict::UnknownIssuer,
            sdk::Verdict::IssuerKeyCompromised => Verdict::IssuerKeyCompromised,
            sdk::Verdict::KeyNotValidAtIssuance => Verdict::KeyNotValidAtIssuance,
            sdk::Verdict::BadSignature => Verdict::BadSignature,
            sdk::Verdict::BadHolderSignature => Verdict::BadHolderSignature,
            sdk::Verdict::PresentationStale => Verdict::PresentationStale,
            sdk::Verdict::NotYetValid => Verdict::NotYetValid,
            sdk::Verdict::EndorsementOverdue => Verdict::EndorsementOverdue,
            sdk::Verdict::Suspended => Verdict::Suspended,
            sdk::Verdict::Superseded => Verdict::Superseded,
            sdk::Verdict::Revoked => Verdict::Revoked,
        }
    }
}

impl From<sdk::Assurance> for Assurance {
    fn from(a: sdk::Assurance) -> Assurance {
        match a {
            sdk::Assurance::HolderBound => Assurance::HolderBound,
            sdk::Assurance::Unbound => Assurance::Unbound,
        }
    }
}

impl From<sdk::VerifyWarning> for Warning {
    fn from(w: sdk::VerifyWarning) -> Warning {
        match w {
            sdk::VerifyWarning::StatusUnknown => Warning::StatusUnknown,
            sdk::VerifyWarning::TrustListStale => Warning::TrustListStale,
            sdk::VerifyWarning::ClockSuspect => Warning::ClockSuspect,
        }
    }
}

impl From<sdk::Permit> for Permit {
    fn from(p: sdk::Permit) -> Permit {
        Permit {
            number: p.number,
            name: p.name,
            masked_id_number: p.id_number,
            district: p.residence,
            district_name: p.residence_name,
            address: p.address,
            issued_at: unix_seconds(p.issued_at),
            expires_at: unix_seconds(p.expires_at),
            issuer: p.issuer,
            holder_key: p.holder_key,
            periods: p
                .periods
                .into_iter()
                .map(|r| Period {
                    district: r.district,
                    start: r.start,
                    end: r.end,
                })
                .collect(),
            lapses: p
                .lapses
                .into_iter()
                .map(|l| Lapse {
                    from: l.from,
                    until: l.until,
                })
                .collect(),
            first_issued: p.first_issued,
            last_endorsed: p.last_endorsed,
            status_list_uri: p.status_list_uri,
            status_index: p.status_index,
        }
    }
}

impl From<sdk::BundleLoad> for BundleLoad {
    fn from(b: sdk::BundleLoad) -> BundleLoad {
        BundleLoad {
            issued_at: unix_seconds(b.issued_at),
            trust_list: b.trust_list.into(),
            status_lists: b
                .status_lists
                .into_iter()
                .map(|l| BundleListLoad {
                    uri: l.uri,
                    outcome: l.outcome.into(),
                })
                .collect(),
        }
    }
}

impl From<sdk::ListOutcome> for ListOutcome {
    fn from(o: sdk::ListOutcome) -> ListOutcome {
        match o {
            sdk::ListOutcome::Installed => ListOutcome::Installed,
            sdk::ListOutcome::Updated => ListOutcome::Updated,
            sdk::ListOutcome::Unchanged => ListOutcome::Unchanged,
            sdk::ListOutcome::Refused => ListOutcome::Refused,
        }
    }
}

impl From<sdk::Change> for Change {
    fn from(c: sdk::Change) -> Change {
        match c {
            sdk::Change::Installed => Change::Installed,
            sdk::Change::Updated => Change::Updated,
            sdk::Change::Unchanged => Change::Unchanged,
        }
    }
}

impl From<sdk::VerifierState> for VerifierState {
    fn from(s: sdk::VerifierState) -> VerifierState {
        VerifierState {
            root_key_ids: s.root_key_ids,
            root_keys_hex: s.root_keys_hex,
            trust_list_sequence: s.trust_list_sequence,
            lists: s
                .lists
                .into_iter()
                .map(|l| ListInfo {
                    kind: match l.kind {
                        sdk::ListKind::TrustList => ListKind::TrustList,
                        sdk::ListKind::StatusList => ListKind::StatusList,
                    },
                    uri: l.uri,
                    issued_at: unix_seconds(l.issued_at),
                    expires_at: unix_seconds(l.expires_at),
                    ttl_seconds: l.ttl_seconds,
                    age_seconds: l.age_seconds,
                    stale: l.stale,
                    expired: l.expired,
                })
                .collect(),
        }
    }
}
