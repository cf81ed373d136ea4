//! `epermit serve` (the default): runs the HTTP service until SIGINT/SIGTERM.

use std::path::Path;

use serde_json::json;

use crate::commands::{Outcome, exit};
use crate::config::{Mode, Settings};
use crate::startup::Application;

/// Loads the settings, builds the service and serves; a start-up failure exits 3 naming it.
pub fn run(config: Option<&Path>) -> Outcome {
    crate::telemetry::init();
    let settings = match Settings::load(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("epermit: {e}");
            return Outcome::bad_input(json!({ "error": "invalid_settings" }));
        }
    };
    actix_web::rt::System::new().block_on(async move {
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("epermit: cannot start: {e}");
                return Outcome::bad_input(json!({ "error": "start_failed" }));
            }
        };
        let addr = app.state().settings.bind;
        announce_mode(&app);
        tracing::info!(%addr, port = app.port(), "epermit serving; docs at /docs");
        eprintln!(
            "epermit: serving on http://{}:{} (docs at /docs)",
            addr.ip(),
            app.port()
        );
        match app.run_until_stopped().await {
            Ok(()) => Outcome {
                json: None,
                code: exit::OK,
            },
            Err(e) => {
                eprintln!("epermit: server failed: {e}");
                Outcome {
                    json: None,
                    code: exit::IO,
                }
            }
        }
    })
}

/// Says at start-up which mode runs and what it means (a log line and a line on stderr).
fn announce_mode(app: &Application) {
    let state = app.state();
    let sender = state.sender.describe();
    let metrics = match app.metrics_port() {
        Some(port) => format!(
            "/metrics on the internal listener {}:{port} only",
            state
                .settings
                .metrics_listener()
                .map_or_else(String::new, |a| a.ip().to_string())
        ),
        None => "/metrics on the public listener".to_owned(),
    };
    let text = match state.settings.mode {
        Mode::Development => format!(
            "DEVELOPMENT mode: login codes go to {sender}{}; {metrics}. Not for real users: set \
             EPERMIT_MODE=production with an SMS gateway to deploy",
            if sender.starts_with("outbox") {
                " (not sent; anyone who reads that file can log in as anyone)"
            } else {
                ""
            }
        ),
        Mode::Production => format!("production mode: login codes go to {sender}; {metrics}"),
    };
    match state.settings.mode {
        Mode::Development => tracing::warn!(mode = "development", %sender, "{text}"),
        Mode::Production => tracing::info!(mode = "production", %sender, "{text}"),
    }
    eprintln!("epermit: {text}");
}
