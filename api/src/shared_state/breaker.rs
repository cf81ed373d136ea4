//! The circuit breaker in front of Redis (issue 14 item 1): a small state machine, closed → open
//! → half-open → closed, that decides whether a call may touch the network.
//!
//! - **Closed**: calls go through. `failures_to_open` consecutive failures, or one timeout (a
//!   hung server costs every waiting request its timeout, so one is enough), open it.
//! - **Open**: every call is refused at once, without touching the network, until the back-off
//!   has passed: `first_backoff` after opening, then twice the last one after each failed probe,
//!   at most `max_backoff`.
//! - **Half-open**: the first call after the back-off is admitted as the *probe*, the only one
//!   in flight; every other call is refused while it runs. Its success closes the breaker (and
//!   resets the back-off), its failure opens it again for the next back-off.
//!
//! [`Machine`] is the pure state machine (time passed in, so its tests need no clock);
//! [`Breaker`] puts it behind a mutex and reports every change of state to an observer (the
//! metrics). No crate fitted: `failsafe` admits every call while half-open and shows no state
//! to read for `/readyz`.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// When the breaker opens and how long it stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures (not timeouts: one of those is enough) that open a closed breaker.
    pub failures_to_open: u32,
    /// How long the breaker stays open the first time.
    pub first_backoff: Duration,
    /// The longest it stays open after failed probes.
    pub max_backoff: Duration,
}

/// The state of a breaker, as reported (`/readyz`, the metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Calls go through.
    Closed,
    /// Calls are refused at once.
    Open,
    /// One probe is in flight; other calls are refused.
    HalfOpen,
}

impl Phase {
    /// `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::Open => "open",
            Phase::HalfOpen => "half_open",
        }
    }

    /// The value of the state gauge: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> i64 {
        match self {
            Phase::Closed => 0,
            Phase::Open => 1,
            Phase::HalfOpen => 2,
        }
    }
}

/// What the breaker lets a caller do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead (the breaker is closed); report the outcome.
    Call,
    /// Go ahead as the half-open probe; report the outcome (a probe that is never reported
    /// keeps every other call refused).
    Probe,
    /// Do not touch the network.
    Refused,
}

/// How an admitted call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered.
    Success,
    /// The server could not be reached or failed.
    Failure,
    /// No answer within the call timeout.
    Timeout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant, backoff: Duration },
    HalfOpen { backoff: Duration },
}

/// The state machine, time passed in.
#[derive(Clone, Debug)]
pub struct Machine {
    policy: BreakerPolicy,
    state: State,
}

impl Machine {
    /// A closed breaker.
    pub fn new(policy: BreakerPolicy) -> Machine {
        let policy = BreakerPolicy {
            failures_to_open: policy.failures_to_open.max(1),
            first_backoff: policy.first_backoff,
            max_backoff: policy.max_backoff.max(policy.first_backoff),
        };
        Machine {
            policy,
            state: State::Closed { failures: 0 },
        }
    }

    /// The state now (an open breaker whose back-off has passed stays `Open` until a call is
    /// admitted as the probe).
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Closed { .. } => Phase::Closed,
            State::Open { .. } => Phase::Open,
            State::HalfOpen { .. } => Phase::HalfOpen,
        }
    }

    /// Whether a call may go out at `now`.
    pub fn admit(&mut self, now: Instant) -> Admission {
        match self.state {
            State::Closed { .. } => Admission::Call,
            State::Open { until, backoff } if now >= until => {
                self.state = State::HalfOpen { backoff };
                Admission::Probe
            }
            State::Open { .. } | State::HalfOpen { .. } => Admission::Refused,
        }
    }

    /// Records how a call admitted as `admission` ended at `now`. A late answer to a call
    /// admitted before the breaker last changed (a plain call finishing while open, say) does
    /// not move it: only calls while closed and the probe while half-open count.
    pub fn record(&mut self, admission: Admission, outcome: Outcome, now: Instant) {
        match (admission, self.state) {
            (Admission::Call, State::Closed { failures }) => match outcome {
                Outcome::Success => self.state = State::Closed { failures: 0 },
                Outcome::Timeout => self.open(now, self.policy.first_backoff),
                Outcome::Failure if failures + 1 >= self.policy.failures_to_open => {
                    self.open(now, self.policy.first_backoff);
                }
                Outcome::Failure => {
                    self.state = State::Closed {
                        failures: failures + 1,
                    }
                }
            },
            (Admission::Probe, State::HalfOpen { backoff }) => match outcome {
                Outcome::Success => self.state = State::Closed { failures: 0 },
                Outcome::Failure | Outcome::Timeout => {
                    let next = backoff
                        .checked_mul(2)
                        .unwrap_or(self.policy.max_backoff)
                        .min(self.policy.max_backoff);
                    self.open(now, next);
                }
            },
            _ => {}
        }
    }

    fn open(&mut self, now: Instant, backoff: Duration) {
        self.state = State::Open {
            until: now + backoff,
            backoff,
        };
    }
}

/// A [`Machine`] shared by the tasks of one instance, reporting each change of phase.
pub struct Breaker {
    machine: Mutex<Machine>,
    observer: Box<dyn Fn(Phase) + Send + Sync>,
}

impl Breaker {
    /// A closed breaker; `observer` is told every phase entered (and `Closed` now).
    pub fn new(policy: BreakerPolicy, observer: Box<dyn Fn(Phase) + Send + Sync>) -> Breaker {
        observer(Phase::Closed);
        Breaker {
            machine: Mutex::new(Machine::new(policy)),
            observer,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        // Every update is one assignment of a `Copy` state: a poisoned lock holds a sane one.
        self.machine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        self.lock().phase()
    }

    /// See [`Machine::admit`].
    pub fn admit(&self) -> Admission {
        let (before, admission, after) = {
            let mut machine = self.lock();
            let before = machine.phase();
            let admission = machine.admit(Instant::now());
            (before, admission, machine.phase())
        };
        self.observe(before, after);
        admission
    }

    /// See [`Machine::record`].
    pub fn record(&self, admission: Admission, outcome: Outcome) {
        let (before, after) = {
            let mut machine = self.lock();
            let before = machine.phase();
            machine.record(admission, outcome, Instant::now());
            (before, machine.phase())
        };
        self.observe(before, after);
    }

    fn observe(&self, before: Phase, after: Phase) {
        if before != after {
            match after {
                Phase::Open => tracing::warn!("shared store circuit breaker open"),
                Phase::HalfOpen => tracing::info!("shared store circuit breaker probing"),
                Phase::Closed => tracing::info!("shared store circuit breaker closed"),
            }
            (self.observer)(after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            failures_to_open: 3,
            first_backoff: 100 * MS,
            max_backoff: 350 * MS,
        }
    }

    /// A breaker opened by a timeout at `t0`.
    fn opened(t0: Instant) -> Machine {
        let mut m = Machine::new(policy());
        assert_eq!(m.admit(t0), Admission::Call);
        m.record(Admission::Call, Outcome::Timeout, t0);
        m
    }

    #[test]
    fn a_closed_breaker_admits_every_call_and_a_success_resets_the_failure_count() {
        let t0 = Instant::now();
        let mut m = Machine::new(policy());
        for _ in 0..10 {
            assert_eq!(m.admit(t0), Admission::Call);
            m.record(Admission::Call, Outcome::Failure, t0);
            m.record(Admission::Call, Outcome::Failure, t0);
            m.record(Admission::Call, Outcome::Success, t0);
        }
        assert_eq!(m.phase(), Phase::Closed);
    }

    #[test]
    fn consecutive_failures_open_the_breaker_at_the_threshold() {
        let t0 = Instant::now();
        let mut m = Machine::new(policy());
        m.record(Admission::Call, Outcome::Failure, t0);
        m.record(Admission::Call, Outcome::Failure, t0);
        assert_eq!(m.phase(), Phase::Closed);
        m.record(Admission::Call, Outcome::Failure, t0);
        assert_eq!(m.phase(), Phase::Open);
        assert_eq!(m.admit(t0), Admission::Refused);
    }

    #[test]
    fn one_timeout_opens_the_breaker() {
        let t0 = Instant::now();
        let mut m = opened(t0);
        assert_eq!(m.phase(), Phase::Open);
        assert_eq!(m.admit(t0 + 99 * MS), Admission::Refused);
    }

    #[test]
    fn after_the_backoff_one_probe_is_admitted_and_every_other_call_refused() {
        let t0 = Instant::now();
        let mut m = opened(t0);
        assert_eq!(m.admit(t0 + 100 * MS), Admission::Probe);
        assert_eq!(m.phase(), Phase::HalfOpen);
        for i in 0..5 {
            assert_eq!(m.admit(t0 + (101 + i) * MS), Admission::Refused);
        }
        // A late answer to a call admitted while closed does not close it.
        m.record(Admission::Call, Outcome::Success, t0 + 110 * MS);
        assert_eq!(m.phase(), Phase::HalfOpen);
    }

    #[test]
    fn a_successful_probe_closes_the_breaker_and_resets_the_backoff() {
        let t0 = Instant::now();
        let mut m = opened(t0);
        assert_eq!(m.admit(t0 + 100 * MS), Admission::Probe);
        m.record(Admission::Probe, Outcome::Failure, t0 + 100 * MS);
        assert_eq!(m.admit(t0 + 300 * MS), Admission::Probe);
        m.record(Admission::Probe, Outcome::Success, t0 + 300 * MS);
        assert_eq!(m.phase(), Phase::Closed);
        assert_eq!(m.admit(t0 + 300 * MS), Admission::Call);
        // Opened again: the first back-off, not the doubled one.
        m.record(Admission::Call, Outcome::Timeout, t0 + 400 * MS);
        assert_eq!(m.admit(t0 + 499 * MS), Admission::Refused);
        assert_eq!(m.admit(t0 + 500 * MS), Admission::Probe);
    }

    #[test]
    fn failed_probes_double_the_backoff_up_to_its_cap() {
        let t0 = Instant::now();
        let mut m = opened(t0);
        let mut at = t0;
        // Open for 100 ms, then 200, then 350 (the cap), then 350 again.
        for expected in [100, 200, 350, 350] {
            let backoff = expected * MS;
            assert_eq!(m.admit(at + backoff - MS), Admission::Refused, "{expected}");
            at += backoff;
            assert_eq!(m.admit(at), Admission::Probe, "{expected}");
            m.record(Admission::Probe, Outcome::Timeout, at);
            assert_eq!(m.phase(), Phase::Open);
        }
    }

    #[test]
    fn answers_to_calls_admitted_before_the_breaker_opened_do_not_move_it() {
        let t0 = Instant::now();
        let mut m = opened(t0);
        m.record(Admission::Call, Outcome::Success, t0 + MS);
        m.record(Admission::Call, Outcome::Timeout, t0 + 50 * MS);
        assert_eq!(m.phase(), Phase::Open);
        // Not pushed back by the late timeout: the probe comes 100 ms after opening.
        assert_eq!(m.admit(t0 + 100 * MS), Admission::Probe);
        // A refused call has nothing to report.
        m.record(Admission::Refused, Outcome::Success, t0 + 100 * MS);
        assert_eq!(m.phase(), Phase::HalfOpen);
    }

    #[test]
    fn the_breaker_reports_each_phase_it_enters_once() {
        use std::sync::Arc;
        let seen: Arc<Mutex<Vec<Phase>>> = Arc::default();
        let log = seen.clone();
        let breaker = Breaker::new(
            BreakerPolicy {
                failures_to_open: 1,
                first_backoff: Duration::ZERO,
                max_backoff: Duration::ZERO,
            },
            Box::new(move |p| log.lock().unwrap().push(p)),
        );
        assert_eq!(breaker.admit(), Admission::Call);
        breaker.record(Admission::Call, Outcome::Failure);
        breaker.record(Admission::Call, Outcome::Failure);
        assert_eq!(breaker.admit(), Admission::Probe);
        assert_eq!(breaker.admit(), Admission::Refused);
        breaker.record(Admission::Probe, Outcome::Success);
        assert_eq!(breaker.phase(), Phase::Closed);
        assert_eq!(
            *seen.lock().unwrap(),
            [Phase::Closed, Phase::Open, Phase::HalfOpen, Phase::Closed]
        );
    }
}
