//! The OpenAPI 3.1 description of the HTTP surface, served at `GET /openapi.json`, and a
//! browsable Swagger UI at `GET /docs/` (`/docs` redirects there). The UI's HTML, JavaScript and
//! CSS are compiled into the binary (`utoipa-swagger-ui`, feature `vendored`), so the page works
//! without internet access; the online validator badge is switched off for the same reason.
//!
//! The document is built from the routes themselves: [`crate::routes::configure`] mounts every
//! handler through `utoipa-actix-web`, which registers its `#[utoipa::path]` together with it,
//! so a route cannot be served undocumented; the request and response bodies are the types of
//! [`crate::wire`], the same ones the handlers (de)serialise. This module adds what is common:
//! the info and tags, the bearer scheme, the [`Problem`] document and the responses every
//! operation shares, declared once ([`Unauthorized`], [`Forbidden`], [`ServiceUnavailable`]).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::PROBLEM_JSON;

/// The name of the security scheme: a bearer access token (EdDSA JWT) from `/v1/auth/*`.
pub const BEARER: &str = "bearer_jwt";

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// What the document says besides its paths.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "epermit",
        description = "Residence registrations, residence-permit applications, permits and their \
                       verification for Jinhua's nine districts. Errors are RFC 9457 problem \
                       documents (`application/problem+json`) whose `type` is a stable code and \
                       whose `field` names the offending input."
    ),
    components(responses(Unauthorized, Forbidden, ServiceUnavailable)),
    modifiers(&ProblemsAndSecurity),
    tags(
        (name = "auth", description = "Logging in: residents by phone and one-time code, staff by \
                                        password; rotating refresh tokens."),
        (name = "me", description = "The resident's own profile (returned masked)."),
        (name = "residents", description = "Identity at the service counter: officers assign or \
                                             release ID numbers (audited)."),
        (name = "residences", description = "Residence registrations (SPEC §1.1)."),
        (name = "applications", description = "Permit applications (SPEC §1.2) and their review \
                                                (§1.3)."),
        (name = "permits", description = "Permits: issuing, the holder's permit and QR code, \
                                           endorsements, status changes, police look-ups and \
                                           verification (SPEC §1.3–§1.6, §2)."),
        (name = "lists", description = "The public, signed, cacheable trust and status lists \
                                         (SPEC §2)."),
        (name = "audit", description = "The hash-chained audit log (admins)."),
        (name = "staff", description = "Staff accounts (admins): list, disable, enable, unlock, \
                                         reset a password."),
        (name = "ops", description = "Liveness, readiness and metrics."),
    )
)]
pub struct ApiDoc;

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

/// No valid access token (`unauthorized`, with `WWW-Authenticate: Bearer`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unauthorized(#[allow(dead_code)] Problem);

/// The caller's role may not do this, or not in this district (`forbidden`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// The database or the shared store is down (`service_unavailable`, with `Retry-After`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ServiceUnavailable(#[allow(dead_code)] Problem);

/// The document as served: the routes' own documentation ([`crate::routes::configure`]) and
/// what [`ProblemsAndSecurity`] adds (the document of [`mounted`], without a server).
pub fn document() -> utoipa::openapi::OpenApi {
    mounted(actix_web::App::new()).1
}

/// `app` with the routes of [`crate::routes::configure`] mounted, and the document as served of
/// them: the one place the document is assembled (the server's and [`document`]'s).
pub fn mounted<T>(app: actix_web::App<T>) -> (actix_web::App<T>, utoipa::openapi::OpenApi)
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    use utoipa_actix_web::AppExt;
    let (app, mut document) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    ProblemsAndSecurity.modify(&mut document);
    PermitLinks.modify(&mut document);
    (app, document)
}

/// The documented paths and the methods each serves, to answer a method a path does not serve
/// with 405 and `Allow` (RFC 9110 §15.5.6) rather than 404.
#[derive(Debug, Clone)]
pub struct DocumentedRoutes(Vec<(Vec<String>, String)>);

impl DocumentedRoutes {
    /// The routes of `document`.
    pub fn new(document: &utoipa::openapi::OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let served = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ];
                let allow: Vec<&str> = served
                    .into_iter()
                    .filter_map(|(method, on)| on.then_some(method))
                    .collect();
                let segments = path.split('/').map(str::to_owned).collect();
                (segments, allow.join(", "))
            })
            .collect();
        DocumentedRoutes(routes)
    }

    /// The `Allow` value of the documented path `path` matches (a `{name}` matches any one
    /// non-empty segment; of several, the one with most literal segments, as actix prefers
    /// `/v1/permits/me` to `/v1/permits/{number}`), or `None` when no documented path matches.
    pub fn allow(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        let is_parameter = |t: &str| t.starts_with('{') && t.ends_with('}');
        self.0
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t == s || (is_parameter(t) && !s.is_empty()))
            })
            .max_by_key(|(template, _)| template.iter().filter(|t| !is_parameter(t)).count())
            .map(|(_, allow)| allow.as_str())
    }
}

/// Mounts `GET /openapi.json`, `GET /docs` (a redirect) and the Swagger UI under `/docs/`,
/// serving `document`.
pub fn serve(cfg: &mut web::ServiceConfig, document: utoipa::openapi::OpenApi) {
    cfg.route("/docs", web::get().to(docs_redirect)).service(
        SwaggerUi::new("/docs/{_:.*}")
            .url(OPENAPI_PATH, document)
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

/// Adds the bearer security scheme and the [`Problem`] schema, gives every secured operation the
/// shared 401 and 403 and every operation that reaches a dependency the shared 503, and gives
/// every other error response the problem document.
pub struct ProblemsAndSecurity;

/// The OpenAPI links from the permits an officer lists and changes to the calls taking a permit
/// number (suspend, restore, revoke), and from a verdict's decoded permit to the police look-up
/// of its record: a list item's, a changed permit's or a verified permit's `number` is the
/// path's `{number}`. Tools follow them (schemathesis's stateful phase does; it infers the `{id}`
/// links from the schemas itself but not these, whose parameter is not named after an `id`).
pub struct PermitLinks;

/// The calls that take a permit's number: (path, link name).
const PERMIT_CHANGES: [(&str, &str); 3] = [
    ("/v1/permits/{number}/suspend", "Suspend"),
    ("/v1/permits/{number}/restore", "Restore"),
    ("/v1/permits/{number}/revoke", "Revoke"),
];

impl Modify for PermitLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::link::{Link, LinkBuilder};
        let link = |target: &str, method: &str, number: &str| -> RefOr<Link> {
            let target = target.replace('~', "~0").replace('/', "~1");
            RefOr::T(
                LinkBuilder::new()
                    .operation_ref(format!("#/paths/{target}/{method}"))
                    .parameter("number", format!("$response.body#{number}"))
                    .build(),
            )
        };
        let producers = [("/v1/permits", "get", "/items/0/number")]
            .into_iter()
            .chain(
                PERMIT_CHANGES
                    .iter()
                    .map(|(path, _)| (*path, "post", "/number")),
            );
        for (path, method, number) in producers {
            let Some(ok) = ok_response(openapi, path, method) else {
                continue;
            };
            for (target, name) in PERMIT_CHANGES {
                if target != path {
                    ok.links
                        .insert(name.to_owned(), link(target, "post", number));
                }
            }
        }
        if let Some(ok) = ok_response(openapi, "/v1/verify", "post") {
            let lookup = link("/v1/permits/{number}", "get", "/permit/number");
            ok.links.insert("Lookup".to_owned(), lookup);
        }
    }
}

/// The 200 response of `method` (`get` or `post`) on `path`, if documented.
fn ok_response<'a>(
    openapi: &'a mut utoipa::openapi::OpenApi,
    path: &str,
    method: &str,
) -> Option<&'a mut utoipa::openapi::Response> {
    let item = openapi.paths.paths.get_mut(path)?;
    let operation = match method {
        "get" => item.get.as_mut(),
        _ => item.post.as_mut(),
    }?;
    match operation.responses.responses.get_mut("200")? {
        RefOr::T(ok) => Some(ok),
        RefOr::Ref(_) => None,
    }
}

/// Operations that answer without the database or the shared store.
const NO_DEPENDENCY: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

impl Modify for ProblemsAndSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.schemas.insert(
            <Problem as ToSchema>::name().into_owned(),
            <Problem as utoipa::PartialSchema>::schema(),
        );
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
        for (path, item) in openapi.paths.paths.iter_mut() {
            let reaches_dependency = !NO_DEPENDENCY.contains(&path.as_str());
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_shared_responses(operation, reaches_dependency);
                add_problem_content(operation);
            }
        }
    }
}

fn add_shared_responses(operation: &mut Operation, reaches_dependency: bool) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if secured {
        shared.push(("401", "Unauthorized"));
        shared.push(("403", "Forbidden"));
    }
    if reaches_dependency {
        shared.push(("503", "ServiceUnavailable"));
    }
    for (status, name) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Resolves a local `operationRef` (`#/paths/<escaped path>/<method>`) in `doc`.
    fn operation<'a>(doc: &'a Value, reference: &str) -> Option<(String, &'a Value)> {
        let rest = reference.strip_prefix("#/paths/")?;
        let (path, method) = rest.rsplit_once('/')?;
        let path = path.replace("~1", "/").replace("~0", "~");
        doc["paths"][&path].get(method).map(|op| (path, op))
    }

    /// The component a `$ref` schema names.
    fn component<'a>(doc: &'a Value, schema: &Value) -> &'a Value {
        let name = schema["$ref"].as_str().unwrap_or_default();
        &doc["components"]["schemas"][name.trim_start_matches("#/components/schemas/")]
    }

    #[test]
    fn the_permit_links_lead_from_permits_to_the_calls_on_their_number() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let producers = [
            ("/v1/permits", "get", "/items/0/number"),
            ("/v1/permits/{number}/suspend", "post", "/number"),
            ("/v1/permits/{number}/restore", "post", "/number"),
            ("/v1/permits/{number}/revoke", "post", "/number"),
        ];
        for (path, method, pointer) in producers {
            let ok = &doc["paths"][path][method]["responses"]["200"];
            let links = ok["links"]
                .as_object()
                .unwrap_or_else(|| panic!("{path}: no links"));
            assert_eq!(
                links.len(),
                if path == "/v1/permits" { 3 } else { 2 },
                "{path}"
            );
            // The value each link takes is where the 200's schema has the permit's number.
            let mut schema = component(&doc, &ok["content"]["application/json"]["schema"]);
            if pointer.starts_with("/items/0") {
                schema = component(&doc, &schema["properties"]["items"]["items"]);
            }
            assert!(
                schema["properties"]["number"].is_object(),
                "{path}: {schema}"
            );
            for (name, link) in links {
                let reference = link["operationRef"].as_str().unwrap();
                let (target, op) = operation(&doc, reference)
                    .unwrap_or_else(|| panic!("{path} → {name}: {reference} is not documented"));
                assert_ne!(target, path, "{name}");
                assert!(target.contains("{number}"), "{target}");
                assert!(
                    op["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["name"] == "number" && p["in"] == "path")
                );
                assert_eq!(
                    link["parameters"]["number"],
                    format!("$response.body#{pointer}"),
                    "{path} → {name}"
                );
            }
        }
    }
}
