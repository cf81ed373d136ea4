//! Residence registrations on the wire (SPEC §1.1).

use chrono::{DateTime, NaiveDate, Utc};
use policy::District;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::Address;
use crate::error::{ApiError, ApiResult};
use crate::store::residences::{self, DistrictFilter, Status};

/// `POST /v1/residences`: `{district, address, start}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeclareBody {
    /// A Jinhua district, six-digit GB/T 2260 code.
    #[schema(schema_with = super::schema::district)]
    pub district: String,
    /// 2–64 characters, no control characters.
    #[schema(schema_with = super::schema::address)]
    pub address: String,
    /// The move-in day (YYYY-MM-DD), at most 30 days ago and not in the future.
    #[schema(schema_with = super::schema::date)]
    pub start: String,
}

/// A declaration, parsed.
#[derive(Debug, Clone)]
pub struct Declaration {
    /// Where.
    pub district: District,
    /// The address.
    pub address: Address,
    /// The move-in day (the 30-day rule is checked by the workflow, against today).
    pub start: NaiveDate,
}

impl TryFrom<DeclareBody> for Declaration {
    type Error = ApiError;

    fn try_from(body: DeclareBody) -> ApiResult<Self> {
        Ok(Declaration {
            district: super::district(&body.district, "district")?,
            address: super::text(Address::parse, &body.address, "address")?,
            start: super::date(&body.start, "start")?,
        })
    }
}

/// `POST /v1/residences/{id}/end`: `{end}`, the move-out day.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EndBody {
    /// The move-out day (YYYY-MM-DD): not before the start, not after today.
    #[schema(schema_with = super::schema::date)]
    pub end: String,
}

impl EndBody {
    /// The move-out day.
    pub fn end(&self) -> ApiResult<NaiveDate> {
        super::date(&self.end, "end")
    }
}

/// A residence registration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidenceView {
    /// Its id.
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// The district's code.
    #[schema(example = "330702")]
    pub district: String,
    /// The address.
    pub address: String,
    /// The move-in day.
    pub start: NaiveDate,
    /// The move-out day, once ended.
    pub end: Option<NaiveDate>,
    /// `declared` or `confirmed`.
    #[schema(value_type = String, example = "declared")]
    pub status: Status,
    /// How it was recorded: `declared` by the resident, or `imported` from the legacy registry.
    #[schema(value_type = String, example = "declared")]
    pub source: residences::Source,
    /// When an officer confirmed it.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl From<residences::Model> for ResidenceView {
    fn from(r: residences::Model) -> Self {
        ResidenceView {
            id: r.id,
            resident_id: r.resident_id,
            district: r.district.to_string(),
            address: r.address,
            start: r.start_date,
            end: r.end_date,
            status: r.status,
            source: r.source,
            confirmed_at: r.confirmed_at,
            created_at: r.created_at,
        }
    }
}

/// A list of registrations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidenceList {
    /// Oldest first.
    pub items: Vec<ResidenceView>,
}

impl From<Vec<residences::Model>> for ResidenceList {
    fn from(rows: Vec<residences::Model>) -> Self {
        ResidenceList {
            items: rows.into_iter().map(ResidenceView::from).collect(),
        }
    }
}

/// Filters of `GET /v1/residences` (officers).
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// `declared` or `confirmed`.
    #[param(schema_with = super::schema::residence_status)]
    pub status: Option<String>,
    /// Registrations covering some day on or after this one (YYYY-MM-DD).
    #[param(schema_with = super::schema::date)]
    pub from: Option<String>,
    /// Registrations starting on or before this day (YYYY-MM-DD).
    #[param(schema_with = super::schema::date)]
    pub to: Option<String>,
}

impl TryFrom<ListQuery> for DistrictFilter {
    type Error = ApiError;

    fn try_from(query: ListQuery) -> ApiResult<Self> {
        let status = match query.status.as_deref() {
            None => None,
            Some("declared") => Some(Status::Declared),
            Some("confirmed") => Some(Status::Confirmed),
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_status",
                    "status",
                    "status is declared or confirmed",
                ));
            }
        };
        let day = |text: Option<String>, field| text.map(|t| super::date(&t, field)).transpose();
        Ok(DistrictFilter {
            status,
            from: day(query.from, "from")?,
            to: day(query.to, "to")?,
        })
    }
}
