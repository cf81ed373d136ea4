//! The decoded permit (SPEC §2 credential claims) as a record of plain fields for the app's
//! screens: districts as their six-digit codes, days as `YYYY-MM-DD`, instants as the platform's.

use std::time::SystemTime;

use crypto::PermitClaims;
use crypto::keys::public_key_hex;

use crate::time::{date_text, system_time};

/// A permit as the credential states it. Display it next to the verdict; trust it only when the
/// verdict says so.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Permit {
    /// The permit number, `330782-2026-000123`.
    pub number: String,
    /// The issuing district's code (the district whose key signed, SPEC §1.3/§1.4).
    pub issuer: String,
    /// When this credential was signed (`iat`).
    pub issued_at: SystemTime,
    /// End of validity (`exp`): 00:00 Asia/Shanghai of the next anniversary.
    pub expires_at: SystemTime,
    /// The holder's device key (`cnf`) as 64 hex digits, `None` until bound.
    pub holder_key: Option<String>,
    /// The holder's name.
    pub name: String,
    /// The masked ID number, `330702********123X`.
    pub id_number: String,
    /// The residence district's code.
    pub residence: String,
    /// The residence district's Chinese name, as printed on the permit.
    pub residence_name: String,
    /// The address, to street/community level.
    pub address: String,
    /// Confirmed residence registrations (SPEC §1.1), in the credential's order.
    pub periods: Vec<ResidencePeriod>,
    /// Lapses of endorsement (SPEC §1.4).
    pub lapses: Vec<Lapse>,
    /// The day the permit was first issued.
    pub first_issued: String,
    /// The day of the last endorsement.
    pub last_endorsed: Option<String>,
    /// The status list holding this permit's status (its URI).
    pub status_list_uri: String,
    /// The permit's index in that list.
    pub status_index: u32,
}

/// A residence registration `[start, end)` (SPEC §3 `periods`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResidencePeriod {
    /// Six-digit district code (may lie outside Jinhua).
    pub district: String,
    /// First day registered.
    pub start: String,
    /// Move-out day, `None` while still registered.
    pub end: Option<String>,
}

/// A lapse `[from, until)`: days the permit's use was suspended for a missed endorsement.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Lapse {
    /// First day of the lapse (the missed anniversary).
    pub from: String,
    /// The late endorsement's day, `None` while the lapse is open.
    pub until: Option<String>,
}

impl From<&PermitClaims> for Permit {
    fn from(c: &PermitClaims) -> Permit {
        Permit {
            number: c.number.to_string(),
            issuer: c.issuer.to_string(),
            issued_at: system_time(c.issued_at),
            expires_at: system_time(c.expires_at),
            holder_key: c.holder_key.as_ref().map(public_key_hex),
            name: c.name.clone(),
            id_number: c.id_number.to_string(),
            residence: c.residence.to_string(),
            residence_name: c.residence.name_zh().to_owned(),
            address: c.address.clone(),
            periods: c
                .periods
                .iter()
                .map(|p| ResidencePeriod {
                    district: format!("{:06}", p.district().value()),
                    start: date_text(p.start()),
                    end: p.end().map(date_text),
                })
                .collect(),
            lapses: c
                .lapses
                .iter()
                .map(|l| Lapse {
                    from: date_text(l.from()),
                    until: l.until().map(date_text),
                })
                .collect(),
            first_issued: date_text(c.first_issued),
            last_endorsed: c.last_endorsed.map(date_text),
            status_list_uri: c.status.uri.clone(),
            status_index: c.status.index,
        }
    }
}
