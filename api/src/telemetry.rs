//! Structured logs (tracing, JSON lines on stderr). Personal data never reaches them: phone and
//! ID numbers are typed values whose `Display` and `Debug` are masked, and request logs carry the
//! route pattern, never bodies or query strings.

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber (level from `RUST_LOG`, default `info`); a second call is a
/// no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
