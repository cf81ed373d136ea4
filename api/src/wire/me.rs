//! The resident's profile on the wire.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{IdNumber, PersonName, PhoneNumber};
use crate::error::{ApiError, ApiResult};
use crate::store::residents;

/// `PUT /v1/me`: `{name, id_number}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileBody {
    /// 2–32 letters, spaces or `·`.
    #[schema(schema_with = super::schema::person_name)]
    pub name: String,
    /// The 18-character resident ID number (GB 11643, check character verified).
    #[schema(schema_with = super::schema::id_number)]
    pub id_number: String,
}

/// A profile, parsed.
#[derive(Debug)]
pub struct Profile {
    /// The name.
    pub name: PersonName,
    /// The ID number.
    pub id_number: IdNumber,
}

impl TryFrom<ProfileBody> for Profile {
    type Error = ApiError;

    fn try_from(body: ProfileBody) -> ApiResult<Self> {
        Ok(Profile {
            name: super::text(PersonName::parse, &body.name, "name")?,
            id_number: IdNumber::parse(&body.id_number)
                .map_err(|e| ApiError::invalid("invalid_id_number", "id_number", e.to_string()))?,
        })
    }
}

/// The resident's profile, personal data masked (even to its owner: the app shows the masked
/// forms).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// The resident's id.
    pub id: i64,
    /// The phone number, masked: `138****5678`.
    pub phone: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// The ID number, masked: `110105********002X`.
    pub id_number: Option<String>,
    /// Whether name and ID number are set (needed to apply).
    pub profile_complete: bool,
}

impl From<&residents::Resident> for ProfileView {
    fn from(r: &residents::Resident) -> Self {
        ProfileView {
            id: r.id,
            phone: r
                .phone
                .as_deref()
                .and_then(|p| PhoneNumber::parse(p).ok())
                .map(|p| p.masked()),
            name: r.name.clone(),
            id_number: r
                .id_number
                .as_deref()
                .and_then(|n| IdNumber::parse(n).ok())
                .map(|n| n.masked()),
            profile_complete: r.name.is_some() && r.id_number.is_some(),
        }
    }
}
