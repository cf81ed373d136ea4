//! Permits on the wire (SPEC §1.3–§1.6, §2).

use chrono::NaiveDate;
use ed25519_dalek::VerifyingKey;
use policy::District;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::LookupPurpose;
use crate::error::{ApiError, ApiResult};
use crate::store::{permits, residences, residents};

/// A permit, for its holder and officers.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitView {
    /// The permit number, `330702-2026-000123`.
    #[schema(example = "330702-2026-000123")]
    pub number: String,
    /// The issuing district.
    #[schema(example = "330702")]
    pub district: String,
    /// The issue day.
    pub issued_on: NaiveDate,
    /// `active`, `suspended` or `revoked`.
    #[schema(value_type = String, example = "active")]
    pub status: permits::Status,
    /// Why it was suspended, restored or revoked.
    pub status_reason: Option<String>,
    /// The end of validity (the next anniversary).
    pub valid_until: NaiveDate,
    /// The last endorsement day.
    pub last_endorsed: Option<NaiveDate>,
    /// The bound device key (64 hex characters), if any.
    pub holder_key: Option<String>,
    /// When the device key was bound.
    pub holder_key_bound_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The client address it was bound from (so the holder notices a binding they did not make).
    pub holder_key_bound_from: Option<String>,
    /// The signed `EP1:` credential.
    pub credential: String,
}

impl From<permits::Model> for PermitView {
    fn from(p: permits::Model) -> Self {
        PermitView {
            number: p.number,
            district: p.district.to_string(),
            issued_on: p.issued_on,
            status: p.status,
            status_reason: p.status_reason,
            valid_until: p.valid_until,
            last_endorsed: p.last_endorsed,
            holder_key: p.holder_key,
            holder_key_bound_at: p.holder_key_bound_at,
            holder_key_bound_from: p.holder_key_bound_from,
            credential: p.credential,
        }
    }
}

/// `GET /v1/permits?number=330702-2026&status=active&limit=50` (officers): a search of the
/// officer's district's permits.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// The permit number, or its first characters (digits and `-`, at most 18).
    #[param(schema_with = super::schema::number_prefix)]
    pub number: Option<String>,
    /// `active`, `suspended` or `revoked`.
    #[param(schema_with = super::schema::permit_status)]
    pub status: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

impl TryFrom<SearchQuery> for permits::DistrictSearch {
    type Error = ApiError;

    fn try_from(query: SearchQuery) -> ApiResult<Self> {
        let number_prefix = match query.number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text)
                if text.len() <= super::schema::NUMBER_PREFIX_MAX
                    && text.bytes().all(|b| b.is_ascii_digit() || b == b'-') =>
            {
                Some(text.to_owned())
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_number",
                    "number",
                    "a permit number (or its start): digits and `-`, at most 18",
                ));
            }
        };
        let status = match query.status.as_deref() {
            None | Some("") => None,
            Some("active") => Some(permits::Status::Active),
            Some("suspended") => Some(permits::Status::Suspended),
            Some("revoked") => Some(permits::Status::Revoked),
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_status",
                    "status",
                    "status is active, suspended or revoked",
                ));
            }
        };
        let limit = query.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid(
                "invalid_limit",
                "limit",
                "between 1 and 200",
            ));
        }
        Ok(permits::DistrictSearch {
            number_prefix,
            status,
            limit,
        })
    }
}

/// `GET /v1/permits` → 200.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitList {
    /// Newest first.
    pub items: Vec<PermitView>,
}

/// `GET /v1/permits/me`: the permit, its credential and the report for its district.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyPermit {
    /// The permit.
    pub permit: PermitView,
    /// The signed `EP1:` credential (also in `permit`).
    pub credential: String,
    /// The SPEC §3 report for the issuing district.
    pub report: policy::Report,
    /// The endorsement window today (SPEC §1.4).
    pub endorsement: EndorsementWindow,
}

/// The endorsement window before the permit's next anniversary (SPEC §1.4), as of today.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndorsementWindow {
    /// First day `POST /v1/permits/me/endorsements` is accepted: a month before the anniversary.
    pub window_opens: NaiveDate,
    /// The next anniversary: the window's last day is the day before; from it on the permit's
    /// use is suspended until a late endorsement (which records a lapse).
    pub anniversary: NaiveDate,
    /// Where today falls: `before_window`, `open` or `overdue`.
    #[schema(value_type = String, example = "before_window")]
    pub stage: policy::Stage,
}

impl From<policy::Window> for EndorsementWindow {
    fn from(w: policy::Window) -> Self {
        EndorsementWindow {
            window_opens: w.opens,
            anniversary: w.anniversary,
            stage: w.stage,
        }
    }
}

/// `?target=D`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// A Jinhua district code; default: the issuing district.
    #[param(schema_with = super::schema::district)]
    pub target: Option<String>,
}

impl ReportQuery {
    /// The target district, if named.
    pub fn target(&self) -> ApiResult<Option<District>> {
        let Some(text) = &self.target else {
            return Ok(None);
        };
        let code = text
            .parse::<policy::DistrictCode>()
            .map_err(|e| ApiError::invalid(e.code(), "target", e.to_string()))?;
        code.jinhua().map(Some).ok_or_else(|| {
            ApiError::invalid(
                "target_not_in_jinhua",
                "target",
                "the target must be a Jinhua district",
            )
        })
    }
}

/// `GET /v1/permits/{number}?purpose=case:ZJ-2026-001234`: why a police verifier looks the
/// record up (see [`LookupPurpose`] for the form); required, recorded in the audit entry.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// `case:<case number>` or `checkpoint:<checkpoint id>`; the reference is 3–32 ASCII letters,
    /// digits and `-`.
    #[param(schema_with = super::schema::lookup_purpose, required = true)]
    pub purpose: Option<String>,
}

impl LookupQuery {
    /// The stated purpose: 400 `missing_field` without one, 400 `invalid_purpose` for one not of
    /// the form, each naming `purpose`.
    pub fn purpose(&self) -> ApiResult<LookupPurpose> {
        let Some(text) = &self.purpose else {
            return Err(ApiError::invalid(
                "missing_field",
                "purpose",
                "`purpose` is required: case:<case number> or checkpoint:<checkpoint id>",
            ));
        };
        LookupPurpose::parse(text)
            .map_err(|e| ApiError::invalid("invalid_purpose", "purpose", e.to_string()))
    }
}

/// `POST /v1/permits/me/holder-key/challenge` → 201: what the new device key must sign.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolderKeyChallenge {
    /// 32 random bytes, 64 hex characters, single use.
    pub challenge: String,
    /// Seconds it stays usable.
    pub expires_in: u64,
    /// The permit number the proof names.
    pub number: String,
}

/// `PUT /v1/permits/me/holder-key`: the device key, its proof of possession, and a one-time
/// code sent to the holder's phone (`POST /v1/auth/otp`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct HolderKeyBody {
    /// The device's Ed25519 public key, 64 hex characters.
    #[schema(schema_with = super::schema::public_key)]
    pub public_key: String,
    /// The challenge from `POST /v1/permits/me/holder-key/challenge`, 64 hex characters.
    #[schema(schema_with = super::schema::challenge)]
    pub challenge: String,
    /// The device key's Ed25519 signature (128 hex characters) over
    /// `"epermit holder-key binding v1" 0x00 <permit number> 0x00 <challenge bytes>`.
    #[schema(schema_with = super::schema::signature)]
    pub signature: String,
    /// A one-time code sent to the holder's phone by `POST /v1/auth/otp`, six digits.
    #[schema(schema_with = super::schema::one_time_code)]
    pub code: String,
}

/// A binding request, parsed.
#[derive(Debug)]
pub struct Binding {
    /// The device key.
    pub key: VerifyingKey,
    /// The challenge it signed.
    pub challenge: [u8; crypto::key_binding::CHALLENGE_LEN],
    /// Its signature.
    pub signature: [u8; 64],
    /// The phone's one-time code.
    pub code: String,
}

/// `N` bytes from hex, or a 400 `code` naming `field`.
fn hex_bytes<const N: usize>(
    text: &str,
    code: &'static str,
    field: &'static str,
) -> ApiResult<[u8; N]> {
    let mut bytes = [0u8; N];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
        ApiError::invalid(
            code,
            field,
            format!("`{field}` is {} hex characters", N * 2),
        )
    })?;
    Ok(bytes)
}

impl TryFrom<HolderKeyBody> for Binding {
    type Error = ApiError;

    fn try_from(body: HolderKeyBody) -> ApiResult<Self> {
        let key = crypto::keys::parse_public_key_hex(body.public_key.trim()).map_err(|_| {
            ApiError::invalid(
                "invalid_public_key",
                "public_key",
                "an Ed25519 public key as 64 hex characters",
            )
        })?;
        let code = super::auth::one_time_code(&body.code)?;
        Ok(Binding {
            key,
            challenge: hex_bytes(&body.challenge, "invalid_challenge", "challenge")?,
            signature: hex_bytes(&body.signature, "invalid_signature", "signature")?,
            code,
        })
    }
}

/// `POST /v1/permits/me/endorsements`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndorsementView {
    /// In the window, or late (with the lapse): `{"timing": "in_window"|"late", …}`.
    pub timing: policy::Endorsed,
    /// The permit as endorsed.
    pub permit: PermitView,
}

/// The holder as police see it (unmasked).
#[derive(Debug, Serialize, ToSchema)]
pub struct Holder {
    /// The name.
    pub name: Option<String>,
    /// The full ID number.
    pub id_number: Option<String>,
    /// The full phone number.
    pub phone: Option<String>,
}

/// A registration in a police look-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupRegistration {
    /// The district's code.
    pub district: String,
    /// The address.
    pub address: String,
    /// The move-in day.
    pub start: NaiveDate,
    /// The move-out day.
    pub end: Option<NaiveDate>,
    /// `declared` or `confirmed`.
    #[schema(value_type = String)]
    pub status: residences::Status,
}

/// `GET /v1/permits/{number}` (police).
#[derive(Debug, Serialize, ToSchema)]
pub struct PermitRecord {
    /// The permit.
    pub permit: PermitView,
    /// Its holder.
    pub holder: Holder,
    /// The holder's registrations, oldest first.
    pub registrations: Vec<LookupRegistration>,
}

impl PermitRecord {
    /// The record of `permit`, held by `holder`, registered as `registrations` say.
    pub fn new(
        permit: permits::Model,
        holder: residents::Resident,
        registrations: Vec<residences::Model>,
    ) -> Self {
        PermitRecord {
            permit: permit.into(),
            holder: Holder {
                name: holder.name,
                id_number: holder.id_number,
                phone: holder.phone,
            },
            registrations: registrations
                .into_iter()
                .map(|r| LookupRegistration {
                    district: r.district.to_string(),
                    address: r.address,
                    start: r.start_date,
                    end: r.end_date,
                    status: r.status,
                })
                .collect(),
        }
    }
}

/// `POST /v1/verify`: `{qr}`, an `EP1:` or `EPP1:` text.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyBody {
    /// The text the QR code holds.
    #[schema(schema_with = super::schema::qr_text)]
    pub qr: String,
}

impl VerifyBody {
    /// The QR text, trimmed: 400 `qr_too_long` past what any QR code holds.
    pub fn qr(&self) -> ApiResult<&str> {
        // Counted in characters, as the document's `maxLength` is.
        if self.qr.chars().count() > crypto::qr_text::MAX_TEXT_LEN {
            return Err(ApiError::invalid(
                "qr_too_long",
                "qr",
                "longer than any QR code holds",
            ));
        }
        Ok(self.qr.trim())
    }
}
