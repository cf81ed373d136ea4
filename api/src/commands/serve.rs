//! `epermit serve` (the default): runs the HTTP service until SIGINT/SIGTERM.

use std::path::Path;

use serde_json::json;

use crate::commands::{Outcome, exit};
use crate::config::Settings;
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
