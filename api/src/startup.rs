//! Building the service: settings → database, shared state, keys → a bound HTTP server whose port
//! is known before it runs (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use secrecy::ExposeSecret;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::auth::code_sender::OutboxSender;
use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::error::ApiError;
use crate::keys::KeyRing;
use crate::openapi::{self, ApiDoc};
use crate::routes;
use crate::shared_state::{MemoryState, RedisState, SharedState};
use crate::signed_lists::ListCache;
use crate::state::AppState;
use crate::store::Store;

/// Why the service could not start; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The shared store could not be set up.
    #[error("shared store: {0}")]
    Shared(#[from] crate::shared_state::SharedStateError),
    /// The keys could not be read or generated.
    #[error("keys: {0}")]
    Keys(#[from] crate::keys::KeyError),
    /// The data key could not be read, generated or used to seal older rows.
    #[error("data key: {0}")]
    Sealing(#[from] crate::sealing::SealError),
    /// The JWT key is unusable.
    #[error("token keys: {0}")]
    Token(#[from] crate::auth::jwt::TokenError),
    /// The metrics registry refused a metric (a programming error).
    #[error("metrics: {0}")]
    Metrics(String),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A built service: its state and a server bound to a port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Opens everything the settings name and binds the listener.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let state = web::Data::new(build_state(settings).await?);
        let addr = state.settings.bind;
        let listener = TcpListener::bind(addr).map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                addr: addr.to_string(),
                source,
            })?
            .port();
        let data = state.clone();
        let server = HttpServer::new(move || {
            let (app, document) = App::new()
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .configure(routes::configure)
                .split_for_parts();
            app.app_data(data.clone())
                .app_data(json_config())
                .app_data(query_config())
                .app_data(path_config())
                .wrap(actix_web::middleware::from_fn(routes::ops::request_id))
                .configure(|cfg| openapi::serve(cfg, finished(document)))
                .default_service(web::to(routes::ops::no_such_route))
        })
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?
        .shutdown_timeout(10)
        .run();
        Ok(Application {
            port,
            server,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (for tests and tools run beside the server).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until a shutdown signal (SIGINT/SIGTERM); in-flight requests finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The OpenAPI document of the routes [`routes::configure`] mounts, as served at
/// `/openapi.json` (for tools and tests that want it without a server).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    finished(document)
}

/// The collected document with what every operation shares (problem documents, 401/403/503).
fn finished(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::Modify;
    openapi::ProblemsAndSecurity.modify(&mut document);
    document
}

/// Opens the database, the shared store and the keys the settings name.
pub async fn build_state(settings: Settings) -> Result<AppState, StartError> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartError::DataDir {
        path: settings.data_dir.display().to_string(),
        source,
    })?;
    let store = Store::connect_with_timeout(
        settings.database_url().expose_secret(),
        settings.database_timeout(),
    )
    .await?;
    let shared: Arc<dyn SharedState> = match &settings.redis_url {
        Some(url) => Arc::new(RedisState::connect(
            url.expose_secret(),
            &settings.redis_prefix,
        )?),
        None => Arc::new(MemoryState::default()),
    };
    let keys = KeyRing::open(&settings.data_dir, &store).await?;
    let sealer = crate::sealing::open(&settings.data_dir, &store).await?;
    let store = store.with_sealer(Arc::new(sealer));
    let jwt = JwtKeys::new(keys.jwt())?;
    let sender = Arc::new(OutboxSender::new(&settings.data_dir));
    let pepper = derive_pepper(&keys)?;
    let lists = ListCache::new(&settings.public_url, settings.verify_recheck());
    Ok(AppState {
        settings,
        store,
        shared,
        keys,
        jwt,
        sender,
        lists,
        metrics: crate::metrics::Metrics::new().map_err(|e| StartError::Metrics(e.to_string()))?,
        pepper,
    })
}

/// Malformed JSON bodies: a 400 naming the position, never echoing the body (it may hold
/// personal data). Bodies are read as JSON values here; [`crate::wire::Json`] then names the
/// field of any shape error.
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _| {
            use actix_web::error::JsonPayloadError;
            let detail = match &err {
                JsonPayloadError::Deserialize(e) => format!(
                    "the body is not JSON ({:?} at line {}, column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
                JsonPayloadError::ContentType => "send the body as application/json".to_owned(),
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => {
                    return ApiError::PayloadTooLarge {
                        code: "payload_too_large",
                        detail: "the JSON body is larger than 64 KiB".into(),
                    }
                    .into();
                }
                _ => "the body could not be read as JSON".to_owned(),
            };
            ApiError::invalid("invalid_body", "body", detail).into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_, _| {
        ApiError::invalid(
            "invalid_query",
            "query",
            "the query string is not valid for this request",
        )
        .into()
    })
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound("no such resource").into())
}

fn derive_pepper(keys: &KeyRing) -> Result<[u8; 32], StartError> {
    use sha2::{Digest, Sha256};
    let der = keys
        .jwt()
        .pkcs8_der()
        .map_err(crate::keys::KeyError::from)?;
    let mut h = Sha256::new();
    h.update(b"epermit shared-store pepper v1");
    h.update(&der);
    Ok(h.finalize().into())
}
