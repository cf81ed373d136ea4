//! Prometheus metrics (`GET /metrics`, text exposition format): requests by route pattern, method
//! and status, their latency, verification verdicts, login codes sent and not sent (an SMS gateway
//! outage shows before residents call), and personal-data look-ups per staff account (so one
//! account harvesting records shows on a dashboard). Labels never carry personal data
//! (route patterns, not paths; staff accounts as `staff:12`, not names). The shared store's
//! circuit breaker shows its state (`shared_store_breaker_state`: 0 closed, 1 open, 2
//! half-open) and its transitions (`shared_store_breaker_transitions_total{to}`); the
//! database's, on PostgreSQL, likewise (`database_breaker_state`,
//! `database_breaker_transitions_total{to}`).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    verdicts: IntCounterVec,
    lookups: IntCounterVec,
    codes: IntCounterVec,
    breaker_state: IntGauge,
    breaker_transitions: IntCounterVec,
    database_breaker_state: IntGauge,
    database_breaker_transitions: IntCounterVec,
}

impl Metrics {
    /// Registers the metrics in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("epermit".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route pattern",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )?;
        let verdicts = IntCounterVec::new(
            Opts::new("verifications_total", "POST /v1/verify verdicts"),
            &["verdict"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        let lookups = IntCounterVec::new(
            Opts::new(
                "personal_data_lookups_total",
                "Records of holders' personal data served (GET /v1/permits/{number}), by staff \
                 account and organisation kind",
            ),
            &["account", "org_kind"],
        )?;
        let codes = IntCounterVec::new(
            Opts::new(
                "login_codes_total",
                "Login codes asked for by outcome: sent, or failed (the SMS gateway did not take it)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(verdicts.clone()))?;
        registry.register(Box::new(lookups.clone()))?;
        registry.register(Box::new(codes.clone()))?;
        let breaker_state = IntGauge::new(
            "shared_store_breaker_state",
            "The shared store's circuit breaker: 0 closed, 1 open, 2 half-open",
        )?;
        let breaker_transitions = IntCounterVec::new(
            Opts::new(
                "shared_store_breaker_transitions_total",
                "Changes of the shared store's circuit breaker, by the state entered",
            ),
            &["to"],
        )?;
        registry.register(Box::new(breaker_state.clone()))?;
        registry.register(Box::new(breaker_transitions.clone()))?;
        let database_breaker_state = IntGauge::new(
            "database_breaker_state",
            "The database's circuit breaker: 0 closed, 1 open, 2 half-open",
        )?;
        let database_breaker_transitions = IntCounterVec::new(
            Opts::new(
                "database_breaker_transitions_total",
                "Changes of the database's circuit breaker, by the state entered",
            ),
            &["to"],
        )?;
        registry.register(Box::new(database_breaker_state.clone()))?;
        registry.register(Box::new(database_breaker_transitions.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            verdicts,
            lookups,
            codes,
            breaker_state,
            breaker_transitions,
            database_breaker_state,
            database_breaker_transitions,
        })
    }

    /// What the shared store's circuit breaker reports: sets the state gauge and counts the
    /// transition (the first call, at start, only sets the gauge).
    pub fn breaker_observer(&self) -> Box<dyn Fn(crate::breaker::Phase) + Send + Sync> {
        observer(&self.breaker_state, &self.breaker_transitions)
    }

    /// What the database's circuit breaker reports, as [`Metrics::breaker_observer`].
    pub fn database_breaker_observer(&self) -> Box<dyn Fn(crate::breaker::Phase) + Send + Sync> {
        observer(
            &self.database_breaker_state,
            &self.database_breaker_transitions,
        )
    }

    /// Records one served request (`status`: the three digits).
    pub fn observe_request(&self, route: &str, method: &str, status: &str, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, status])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    /// Records one verification verdict (its snake_case code).
    pub fn observe_verdict(&self, verdict: &str) {
        self.verdicts.with_label_values(&[verdict]).inc();
    }

    /// Records one served record of a holder's personal data: `account` is the audit-log name of
    /// the staff account (`staff:12`), `org_kind` its organisation kind (`police`).
    pub fn observe_personal_data_lookup(&self, account: &str, org_kind: &str) {
        self.lookups.with_label_values(&[account, org_kind]).inc();
    }

    /// Records one login code handed to the sender: `sent`, or not (503 `sms_unavailable`).
    pub fn observe_login_code(&self, sent: bool) {
        let outcome = if sent { "sent" } else { "failed" };
        self.codes.with_label_values(&[outcome]).inc();
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// A breaker's observer: sets `state` and counts each transition after the first report (the
/// start) in `transitions`.
fn observer(
    state: &IntGauge,
    transitions: &IntCounterVec,
) -> Box<dyn Fn(crate::breaker::Phase) + Send + Sync> {
    let state = state.clone();
    let transitions = transitions.clone();
    let started = std::sync::atomic::AtomicBool::new(false);
    Box::new(move |phase| {
        state.set(phase.gauge());
        if started.swap(true, std::sync::atomic::Ordering::Relaxed) {
            transitions.with_label_values(&[phase.as_str()]).inc();
        }
    })
}
