//! The OpenAPI 3.1 description of the HTTP surface, served at `GET /openapi.json`, and a
//! browsable Swagger UI at `GET /docs/` (`/docs` redirects there). The UI's HTML, JavaScript and
//! CSS are compiled into the binary (`utoipa-swagger-ui`, feature `vendored`), so the page works
//! without internet access; the online validator badge is switched off for the same reason.
//!
//! Handlers carry `#[utoipa::path]` attributes next to their code; the response bodies, which the
//! handlers build as JSON values, are described by the documentation-only types below. Every
//! error response (status ≥ 400) is an RFC 9457 `application/problem+json` [`Problem`]: the
//! [`ProblemsAndSecurity`] modifier adds that content to each one.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::PROBLEM_JSON;

/// The name of the security scheme: a bearer access token (EdDSA JWT) from `/v1/auth/*`.
pub const BEARER: &str = "bearer_jwt";

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "epermit",
        description = "Residence registrations, residence-permit applications, permits and their \
                       verification for Jinhua's nine districts. Errors are RFC 9457 problem \
                       documents (`application/problem+json`) whose `type` is a stable code and \
                       whose `field` names the offending input."
    ),
    paths(
        crate::routes::auth::otp,
        crate::routes::auth::login,
        crate::routes::auth::staff_login,
        crate::routes::auth::refresh,
        crate::routes::me::put_me,
        crate::routes::me::get_me,
        crate::routes::residences::declare,
        crate::routes::residences::list,
        crate::routes::residences::end,
        crate::routes::residences::confirm,
        crate::routes::applications::submit,
        crate::routes::applications::list,
        crate::routes::applications::get,
        crate::routes::applications::reject,
        crate::routes::applications::evidence_file,
        crate::routes::permits::approve,
        crate::routes::permits::mine,
        crate::routes::permits::bind_holder_key,
        crate::routes::permits::qr_png,
        crate::routes::permits::qr_svg,
        crate::routes::permits::endorse,
        crate::routes::permits::report,
        crate::routes::permits::suspend,
        crate::routes::permits::restore,
        crate::routes::permits::revoke,
        crate::routes::permits::lookup,
        crate::routes::permits::verify,
        crate::routes::lists::trust_list,
        crate::routes::lists::status_list,
        crate::routes::audit::list,
        crate::routes::ops::healthz,
        crate::routes::ops::readyz,
    ),
    modifiers(&ProblemsAndSecurity),
    tags(
        (name = "auth", description = "Logging in: residents by phone and one-time code, staff by \
                                        password; rotating refresh tokens."),
        (name = "me", description = "The resident's own profile (returned masked)."),
        (name = "residences", description = "Residence registrations (SPEC §1.1)."),
        (name = "applications", description = "Permit applications (SPEC §1.2) and their review \
                                                (§1.3)."),
        (name = "permits", description = "Permits: issuing, the holder's permit and QR code, \
                                           endorsements, status changes, police look-ups and \
                                           verification (SPEC §1.3–§1.6, §2)."),
        (name = "lists", description = "The public, signed, cacheable trust and status lists \
                                         (SPEC §2)."),
        (name = "audit", description = "The hash-chained audit log (admins)."),
        (name = "ops", description = "Liveness and readiness."),
    )
)]
pub struct ApiDoc;

/// Mounts `GET /openapi.json`, `GET /docs` (a redirect) and the Swagger UI under `/docs/`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/docs", web::get().to(docs_redirect)).service(
        SwaggerUi::new("/docs/{_:.*}")
            .url(OPENAPI_PATH, ApiDoc::openapi())
            .config(
                Config::new([OPENAPI_PATH])
                    .validator_url("none")
                    .persist_authorization(false),
            ),
    );
}

/// `GET /docs` → `/docs/`, where the page's relative links resolve.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// Adds the bearer security scheme and gives every error response the problem document.
pub struct ProblemsAndSecurity;

impl Modify for ProblemsAndSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert(Problem::name().into_owned(), Problem::schema());
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /v1/auth/login`, `/v1/auth/staff-login` or \
                         `/v1/auth/refresh` (EdDSA JWT, 15 minutes).",
                    ))
                    .build(),
            ),
        );
        // The status list is mounted twice: `/sl` is the short URI permits name.
        if let Some(mut item) = openapi.paths.paths.get("/v1/status-list").cloned() {
            if let Some(operation) = item.get.as_mut() {
                operation.operation_id = Some("status_list_short".to_owned());
                operation.summary =
                    Some("The status list, at the short URI permits name".to_owned());
            }
            openapi.paths.paths.insert("/sl".to_owned(), item);
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_problem_content(operation);
            }
        }
    }
}

fn add_problem_content(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(response)) = (is_error, response)
            && response.content.is_empty()
        {
            let schema = RefOr::Ref(Ref::from_schema_name("Problem"));
            response.content.insert(
                PROBLEM_JSON.to_owned(),
                RefOr::T(Content::new(Some(schema))),
            );
        }
    }
}

/// An RFC 9457 problem document: every error. Some carry extra members (e.g. `unmet` for a
/// refused application, `attempts_left` for a wrong code, a window's dates).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// A stable code, e.g. `invalid_phone`, `registration_open`, `not_found`.
    #[schema(example = "invalid_phone")]
    pub r#type: String,
    /// The HTTP reason phrase.
    #[schema(example = "Bad Request")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 400)]
    pub status: u16,
    /// What is wrong, for people (never personal data).
    pub detail: String,
    /// The input at fault, when one is.
    #[schema(example = "phone")]
    pub field: Option<String>,
}

/// Raw bytes (a file or a signed list); the media type is given by the response.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("raw bytes"))
            .into()
    }
}

impl ToSchema for Binary {}

/// Any JSON object; its members are described in words.
pub struct AnyObject;

impl PartialSchema for AnyObject {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::Object)
            .into()
    }
}

impl ToSchema for AnyObject {}

/// `POST /v1/auth/otp` → 202.
#[derive(Serialize, ToSchema)]
pub struct OtpSent {
    /// Always `true`.
    pub sent: bool,
    /// Seconds the code stays valid.
    pub expires_in: u64,
}

/// Access and refresh tokens.
#[derive(Serialize, ToSchema)]
pub struct Tokens {
    /// The bearer token (EdDSA JWT).
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The opaque refresh token (single use; rotates).
    pub refresh_token: String,
}

/// The resident's profile; personal data masked.
#[derive(Serialize, ToSchema)]
pub struct Profile {
    pub id: i64,
    /// Masked phone number.
    pub phone: Option<String>,
    pub name: Option<String>,
    /// Masked ID number.
    pub id_number: Option<String>,
    /// Whether name and ID number are set (needed to apply).
    pub profile_complete: bool,
}

/// `{district, address, start}`.
#[derive(Serialize, ToSchema)]
pub struct DeclareResidence {
    /// A Jinhua district, six-digit GB/T 2260 code.
    #[schema(example = "330702")]
    pub district: String,
    /// 2–64 characters, no control characters.
    pub address: String,
    /// The move-in day.
    pub start: NaiveDate,
}

/// `{end}`.
#[derive(Serialize, ToSchema)]
pub struct EndResidence {
    /// The move-out day: not before the start, not after today.
    pub end: NaiveDate,
}

/// A residence registration.
#[derive(Serialize, ToSchema)]
pub struct Residence {
    pub id: i64,
    pub resident_id: i64,
    #[schema(example = "330702")]
    pub district: String,
    pub address: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    /// `declared` or `confirmed`.
    #[schema(example = "declared")]
    pub status: String,
    /// How it was recorded (declared by the resident, or imported).
    pub source: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A list of registrations.
#[derive(Serialize, ToSchema)]
pub struct ResidenceList {
    pub items: Vec<Residence>,
}

/// The `multipart/form-data` body of `POST /v1/applications`.
#[derive(Serialize, ToSchema)]
pub struct ApplicationForm {
    /// `employment`, `housing` or `study`.
    #[schema(example = "employment")]
    pub basis: String,
    /// One PDF, PNG or JPEG file (told by its first bytes).
    #[schema(value_type = Binary)]
    pub evidence: Vec<u8>,
    /// The district applied to; default: the resident's current registration's.
    pub district: Option<String>,
}

/// `{reason}`: 2–500 characters.
#[derive(Serialize, ToSchema)]
pub struct Reason {
    pub reason: String,
}

/// A permit application.
#[derive(Serialize, ToSchema)]
pub struct ApplicationDoc {
    pub id: i64,
    pub resident_id: i64,
    #[schema(example = "330702")]
    pub district: String,
    /// `employment`, `housing` or `study`.
    pub basis: String,
    pub evidence_sha256: String,
    /// `submitted`, `approved` or `rejected`.
    pub status: String,
    /// The rejection reason.
    pub reason: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A list of applications.
#[derive(Serialize, ToSchema)]
pub struct ApplicationList {
    pub items: Vec<ApplicationDoc>,
}

/// A permit, for its holder and officers.
#[derive(Serialize, ToSchema)]
pub struct Permit {
    /// The permit number.
    pub number: String,
    #[schema(example = "330702")]
    pub district: String,
    pub issued_on: NaiveDate,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    pub status_reason: Option<String>,
    pub valid_until: NaiveDate,
    pub last_endorsed: Option<NaiveDate>,
    /// The bound device key (64 hex characters), if any.
    pub holder_key: Option<String>,
    /// The signed `EP1:` credential.
    pub credential: String,
}

/// `GET /v1/permits/me`.
#[derive(Serialize, ToSchema)]
pub struct MyPermit {
    pub permit: Permit,
    /// The signed `EP1:` credential (also in `permit`).
    pub credential: String,
    /// The SPEC §3 report for the issuing district.
    #[schema(value_type = AnyObject)]
    pub report: Value,
}

/// `{public_key}`: an Ed25519 public key as 64 hex characters.
#[derive(Serialize, ToSchema)]
pub struct HolderKey {
    pub public_key: String,
}

/// `POST /v1/permits/me/endorsements`.
#[derive(Serialize, ToSchema)]
pub struct Endorsement {
    /// In the window, or late (with the lapse).
    #[schema(value_type = AnyObject)]
    pub timing: Value,
    pub permit: Permit,
}

/// The holder as police see it (unmasked).
#[derive(Serialize, ToSchema)]
pub struct Holder {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// A registration in a police look-up.
#[derive(Serialize, ToSchema)]
pub struct LookupRegistration {
    pub district: String,
    pub address: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub status: String,
}

/// `GET /v1/permits/{number}` (police).
#[derive(Serialize, ToSchema)]
pub struct PermitRecord {
    pub permit: Permit,
    pub holder: Holder,
    pub registrations: Vec<LookupRegistration>,
}

/// `{qr}`: an `EP1:` or `EPP1:` text.
#[derive(Serialize, ToSchema)]
pub struct VerifyQr {
    pub qr: String,
}

/// An audit entry.
#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    #[schema(value_type = AnyObject)]
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// A page of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// The `after` of the next page (absent when this one is empty).
    pub next_after: Option<i64>,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The shared store's state in `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct SharedStoreState {
    /// `memory` or `redis`.
    pub kind: String,
    /// `up` or `down`.
    pub state: String,
}

/// `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, `degraded` (shared store down) or `unavailable` (database down).
    pub status: String,
    /// `up` or `down`.
    pub database: String,
    pub shared_store: SharedStoreState,
}
