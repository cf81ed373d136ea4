//! Building the service: settings → database, shared state, keys → a bound HTTP server whose port
//! is known before it runs (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use secrecy::ExposeSecret;

use crate::auth::code_sender::{CodeSender, OutboxSender, SmsGatewaySender};
use crate::auth::jwt::JwtKeys;
use crate::config::{Mode, Settings};
use crate::error::ApiError;
use crate::keys::KeyRing;
use crate::openapi;
use crate::routes;
use crate::shared_state::{GuardedRedis, MemoryState, RedisState, SharedState, guarded};
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
    /// Another instance's first start could not be waited for.
    #[error("first start: {0}")]
    FirstStart(#[from] crate::first_start::FirstStartError),
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
    /// The password-hashing threads could not be started.
    #[error("cannot start the password-hashing threads: {0}")]
    HashThreads(#[source] std::io::Error),
    /// Production mode lacks a setting it cannot run without (named, with its variable).
    #[error("production mode (EPERMIT_MODE=production) needs `{key}` ({variable}): {why}")]
    Production {
        /// The dotted key, e.g. `sms.gateway_url`.
        key: &'static str,
        /// Its environment variable.
        variable: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// The SMS gateway sender could not be set up.
    #[error("SMS gateway: {0}")]
    Sms(#[from] crate::auth::code_sender::GatewaySetupError),
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
    metrics: Option<(u16, Server)>,
    state: web::Data<AppState>,
    checkpointer: tokio::task::JoinHandle<()>,
    /// Deletes expired idempotency records ([`crate::idempotency::spawn_sweeper`]).
    idempotency_sweeper: tokio::task::JoinHandle<()>,
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
            let (app, document) = openapi::mounted(App::new());
            let routes = web::Data::new(openapi::DocumentedRoutes::new(&document));
            app.app_data(data.clone())
                .app_data(routes)
                .app_data(json_config())
                .app_data(query_config())
                .app_data(path_config())
                .app_data(crate::route_patterns::RoutePatterns::default())
                .wrap(actix_web::middleware::from_fn(routes::ops::request_id))
                .configure(|cfg| openapi::serve(cfg, document))
                .configure(crate::screens::serve)
                .default_service(web::to(routes::ops::unmatched))
        })
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?
        .shutdown_timeout(10)
        .run();
        let metrics = match state.settings.metrics_listener() {
            Some(addr) => Some(metrics_server(state.clone(), addr)?),
            None => None,
        };
        let checkpointer = crate::audit::checkpoint::spawn(
            state.store.clone(),
            state.audit_key.clone(),
            state.settings.audit.clone(),
            state.audit_export.clone(),
        );
        let idempotency_sweeper = crate::idempotency::spawn_sweeper(state.store.clone());
        Ok(Application {
            port,
            server,
            metrics,
            state,
            checkpointer,
            idempotency_sweeper,
        })
    }

    /// The port of the internal `/metrics` listener, when one runs
    /// ([`Settings::metrics_listener`]).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (for tests and tools run beside the server).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle that stops the server (gracefully or not), as a signal would.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until a shutdown signal (SIGINT/SIGTERM); in-flight requests finish first. A clean
    /// stop ends with a last audit checkpoint and its export ([`crate::audit::checkpoint`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = match self.metrics {
            None => self.server.await,
            Some((_, metrics)) => {
                let handle = metrics.handle();
                let internal = actix_web::rt::spawn(metrics);
                let served = self.server.await;
                // The public listener has stopped: the internal one goes with it.
                handle.stop(true).await;
                let _ = internal.await;
                served
            }
        };
        self.checkpointer.abort();
        self.idempotency_sweeper.abort();
        crate::audit::checkpoint::at_shutdown(
            &self.state.store,
            &self.state.audit_key,
            &self.state.audit_export,
        )
        .await;
        result
    }
}

/// The internal listener: `/metrics` only, for the Prometheus scraper (bind it to a private
/// address).
fn metrics_server(
    state: web::Data<AppState>,
    addr: std::net::SocketAddr,
) -> Result<(u16, Server), StartError> {
    let bind_error = |source| StartError::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(routes::ops::internal_metrics))
            .default_service(web::to(routes::ops::no_such_route))
    })
    .workers(1)
    .listen(listener)
    .map_err(bind_error)?
    .shutdown_timeout(2)
    .run();
    Ok((port, server))
}

/// Refuses production settings that cannot run: no SMS gateway means no resident can log in.
fn check_production(settings: &Settings) -> Result<(), StartError> {
    if settings.mode != Mode::Production {
        return Ok(());
    }
    if settings.sms.gateway_url.is_none() {
        return Err(StartError::Production {
            key: "sms.gateway_url",
            variable: "EPERMIT_SMS_GATEWAY_URL",
            why: "login codes are sent only through an SMS gateway",
        });
    }
    if settings.sms.api_key.is_none() {
        return Err(StartError::Production {
            key: "sms.api_key",
            variable: "EPERMIT_SMS_API_KEY",
            why: "the SMS gateway needs its API key",
        });
    }
    Ok(())
}

/// The code sender the settings call for: the gateway when one is set (always in production),
/// else the development outbox.
fn code_sender(settings: &Settings) -> Result<Arc<dyn CodeSender>, StartError> {
    let minutes = settings.otp.ttl_minutes();
    if settings.sms.gateway_url.is_some() || settings.mode == Mode::Production {
        Ok(Arc::new(SmsGatewaySender::new(&settings.sms, minutes)?))
    } else {
        Ok(Arc::new(OutboxSender::new(
            &settings.data_dir,
            &settings.sms,
            minutes,
        )))
    }
}

/// Opens the database, the shared store and the keys the settings name.
pub async fn build_state(settings: Settings) -> Result<AppState, StartError> {
    check_production(&settings)?;
    let sender = code_sender(&settings)?;
    std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartError::DataDir {
        path: settings.data_dir.display().to_string(),
        source,
    })?;
    let database_url = settings.database_url();
    let store =
        Store::connect_with_timeout(database_url.expose_secret(), settings.database_timeout())
            .await?;
    let metrics = crate::metrics::Metrics::new().map_err(|e| StartError::Metrics(e.to_string()))?;
    let breaker = &settings.database_breaker;
    let store = store.with_breaker(
        database_url.expose_secret(),
        crate::store::guard::Guard {
            policy: breaker.policy(),
            observer: metrics.database_breaker_observer(),
            probe_timeout: breaker.probe_timeout(),
            suspect_after: breaker.suspect_after(),
        },
    );
    let shared: Arc<dyn SharedState> = match &settings.redis_url {
        Some(url) => {
            let limits = &settings.shared_store;
            let redis = RedisState::connect_with_timeout(
                url.expose_secret(),
                &settings.redis_prefix,
                limits.call_timeout().max(limits.probe_timeout()),
            )?;
            Arc::new(GuardedRedis::new(
                redis,
                limits.breaker_policy(),
                metrics.breaker_observer(),
                guarded::Timeouts {
                    call: limits.call_timeout(),
                    readiness: limits.readiness_timeout(),
                    probe: limits.probe_timeout(),
                },
            ))
        }
        None => Arc::new(MemoryState::default()),
    };
    // Keys are made on the first start: one instance at a time (see crate::first_start).
    let first_start = crate::first_start::FirstStart::begin(&settings.data_dir, &store).await?;
    // The audit key first: opening the key ring may write audit entries (keys generated on
    // first start), and every entry is keyed with it.
    let audit_key = crate::audit::AuditKey::open(&settings.data_dir, &store).await?;
    let keys = KeyRing::open(&settings.data_dir, &store).await?;
    let audit_export = crate::audit::Exporter::from_settings(&settings.audit);
    let sealer = crate::sealing::open(&settings.data_dir, &store).await?;
    first_start.end().await?;
    let store = store.with_sealer(Arc::new(sealer));
    let jwt = JwtKeys::new(keys.jwt())?;
    let pepper = derive_pepper(&keys)?;
    let lists = ListCache::new(&settings.public_url, settings.verify_recheck());
    let revocations = crate::auth::revocation::Revocations::new(
        settings.tokens.revocation_check(),
        settings.tokens.revocation_mirror(),
        shared.kind() != "memory",
    );
    let slots = usize::try_from(settings.auth.max_concurrent_hashes).unwrap_or(1);
    let hash_slots = tokio::sync::Semaphore::new(slots);
    let hash_pool =
        crate::auth::hash_pool::HashPool::new(slots).map_err(StartError::HashThreads)?;
    Ok(AppState {
        settings,
        store,
        shared,
        keys,
        jwt,
        sender,
        lists,
        metrics,
        pepper,
        audit_key,
        audit_export,
        revocations,
        hash_slots,
        hash_pool,
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
