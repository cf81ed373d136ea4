//! Circuit breakers (issue 14 items 1 and 2): one state machine, closed → open → half-open →
//! closed, in front of each dependency whose outage must not cost every request a timeout —
//! Redis ([`crate::shared_state::guarded`]) and PostgreSQL ([`crate::store::guard`]). It decides
//! whether a call may touch the network.
//!
//! - **Closed**: calls go through. `failures_to_open` consecutive failures open it. A failure
//!   below that, or a timeout, starts a *confirming probe* instead (one at a time, in the
//!   background, with the dependency's probe timeout, longer than a call's): when it fails too
//!   the breaker opens, when it succeeds the suspicion is dropped. So one slow answer on a busy
//!   machine (a thread kept off the CPU past the call timeout) does not open it, while a dead
//!   server (connections refused: the probe fails in milliseconds) or a hung one (the probe
//!   times out) does, after one probe.
//! - **Open**: every call is refused at once, without touching the network, until the back-off
//!   has passed: `first_backoff` after opening, then twice the last one after each failed probe,
//!   at most `max_backoff`.
//! - **Half-open**: after the back-off one probe runs in the background — started by a timer, or
//!   by the first call that comes (refused all the same, not kept waiting) — and every call is
//!   refused while it runs. Its success closes the breaker (and resets the back-off), its
//!   failure opens it again for the next back-off. No traffic is needed to see the server back.
//!
//! [`Machine`] is the pure state machine (time passed in, so its tests need no clock);
//! [`Breaker`] puts it behind a mutex, runs the probes on the Tokio runtime and reports every
//! change of state to an observer (the metrics). No crate fitted: `failsafe` admits every call
//! while half-open and shows no state to read for `/readyz`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// When the breaker opens and how long it stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures (timeouts do not count: the confirming probe decides those) that
    /// open a closed breaker without waiting for the confirming probe.
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

/// What the breaker lets a caller do, and what a finished call reports as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead (the breaker is closed); report the outcome.
    Call,
    /// The half-open probe. [`Breaker::admit`] never hands it to a caller: it runs the probe
    /// itself and refuses the call.
    Probe,
    /// The confirming probe a failure or timeout started while closed (run by the
    /// [`Breaker`], never handed to a caller).
    Confirm,
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
    /// `confirming`: a confirming probe is in flight.
    Closed {
        failures: u32,
        confirming: bool,
    },
    Open {
        until: Instant,
        backoff: Duration,
    },
    HalfOpen {
        backoff: Duration,
    },
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
            state: State::Closed {
                failures: 0,
                confirming: false,
            },
        }
    }

    /// The state now (an open breaker whose back-off has passed stays `Open` until its probe
    /// is admitted; a closed one with a confirming probe in flight is `Closed`).
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Closed { .. } => Phase::Closed,
            State::Open { .. } => Phase::Open,
            State::HalfOpen { .. } => Phase::HalfOpen,
        }
    }

    /// When an open breaker's back-off ends.
    pub fn open_until(&self) -> Option<Instant> {
        match self.state {
            State::Open { until, .. } => Some(until),
            _ => None,
        }
    }

    /// Whether a call may go out at `now`: [`Admission::Probe`] for the first one after an
    /// open breaker's back-off.
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

    /// Records how a call admitted as `admission` ended at `now`; `true` when a confirming
    /// probe is to start now (the first failure or timeout while none is in flight). A late
    /// answer to a call admitted before the breaker last changed (a plain call finishing while
    /// open, say) does not move it: only calls while closed, the confirming probe while it is
    /// awaited and the half-open probe while half-open count.
    pub fn record(&mut self, admission: Admission, outcome: Outcome, now: Instant) -> bool {
        match (admission, self.state) {
            (
                Admission::Call,
                State::Closed {
                    failures,
                    confirming,
                },
            ) => match outcome {
                Outcome::Success => {
                    self.state = State::Closed {
                        failures: 0,
                        confirming,
                    };
                    false
                }
                Outcome::Failure if failures + 1 >= self.policy.failures_to_open => {
                    self.open(now, self.policy.first_backoff);
                    false
                }
                Outcome::Failure | Outcome::Timeout => {
                    let failures = failures + u32::from(outcome == Outcome::Failure);
                    self.state = State::Closed {
                        failures,
                        confirming: true,
                    };
                    !confirming
                }
            },
            (
                Admission::Confirm,
                State::Closed {
                    confirming: true, ..
                },
            ) => {
                match outcome {
                    Outcome::Success => self.close(),
                    Outcome::Failure | Outcome::Timeout => {
                        self.open(now, self.policy.first_backoff)
                    }
                }
                false
            }
            (Admission::Probe, State::HalfOpen { backoff }) => {
                match outcome {
                    Outcome::Success => self.close(),
                    Outcome::Failure | Outcome::Timeout => {
                        let next = backoff
                            .checked_mul(2)
                            .unwrap_or(self.policy.max_backoff)
                            .min(self.policy.max_backoff);
                        self.open(now, next);
                    }
                }
                false
            }
            _ => false,
        }
    }

    fn close(&mut self) {
        self.state = State::Closed {
            failures: 0,
            confirming: false,
        };
    }

    fn open(&mut self, now: Instant, backoff: Duration) {
        self.state = State::Open {
            until: now + backoff,
            backoff,
        };
    }
}

/// How a breaker asks its dependency whether it answers (a `PING`, a fresh connection and
/// `SELECT 1`), bounded by the dependency's probe timeout.
pub type ProbeFn = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

/// A [`Machine`] shared by the tasks of one instance: runs its probes in the background and
/// reports each change of phase.
pub struct Breaker {
    name: &'static str,
    machine: Mutex<Machine>,
    observer: Box<dyn Fn(Phase) + Send + Sync>,
    probe: ProbeFn,
    phases: tokio::sync::watch::Sender<Phase>,
}

/// Reports a probe's outcome however its task ends: a probe dropped unfinished (its runtime shut
/// down) counts as failed, so the breaker cannot wait for it forever.
struct ProbeReport(Arc<Breaker>, Admission, Option<Outcome>);

impl Drop for ProbeReport {
    fn drop(&mut self) {
        self.0.record(self.1, self.2.unwrap_or(Outcome::Failure));
    }
}

impl Breaker {
    /// A closed breaker named `name` in its logs (`shared store`, `database`); `observer` is told
    /// every phase entered (and `Closed` now); `probe` asks the dependency. Probes run on the
    /// Tokio runtime of the call that starts them.
    pub fn new(
        name: &'static str,
        policy: BreakerPolicy,
        observer: Box<dyn Fn(Phase) + Send + Sync>,
        probe: ProbeFn,
    ) -> Arc<Breaker> {
        observer(Phase::Closed);
        Arc::new(Breaker {
            name,
            machine: Mutex::new(Machine::new(policy)),
            observer,
            probe,
            phases: tokio::sync::watch::Sender::new(Phase::Closed),
        })
    }

    /// Each phase entered from now on (a call waiting on a hung connection stops waiting when
    /// the breaker opens).
    pub fn watch(&self) -> tokio::sync::watch::Receiver<Phase> {
        self.phases.subscribe()
    }

    /// A call admitted while closed is taking long (longer than any healthy answer): probe the
    /// dependency as after a timeout, while the call goes on. Its outcome is recorded when it
    /// ends, as usual.
    pub fn suspect(self: &Arc<Self>) {
        self.record(Admission::Call, Outcome::Timeout);
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

    /// [`Admission::Call`] or [`Admission::Refused`] (see [`Machine::admit`]); the first call
    /// after the back-off starts the half-open probe and is refused.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let (before, admission, after) = {
            let mut machine = self.lock();
            let before = machine.phase();
            let admission = machine.admit(Instant::now());
            (before, admission, machine.phase())
        };
        self.observe(before, after, None);
        if admission == Admission::Probe {
            self.run_probe(Admission::Probe);
            return Admission::Refused;
        }
        admission
    }

    /// See [`Machine::record`]; starts the confirming probe it asks for, and a timer for the
    /// half-open probe when the breaker opens.
    pub fn record(self: &Arc<Self>, admission: Admission, outcome: Outcome) {
        let (before, confirm, after, until) = {
            let mut machine = self.lock();
            let before = machine.phase();
            let confirm = machine.record(admission, outcome, Instant::now());
            (before, confirm, machine.phase(), machine.open_until())
        };
        self.observe(before, after, until);
        if confirm {
            tracing::info!(
                breaker = self.name,
                "circuit breaker confirming a failed call"
            );
            self.run_probe(Admission::Confirm);
        }
    }

    fn run_probe(self: &Arc<Self>, kind: Admission) {
        let report = ProbeReport(self.clone(), kind, None);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime to probe on: `report` fails as it drops
        };
        let probe = (self.probe)();
        runtime.spawn(async move {
            let mut report = report;
            report.2 = Some(probe.await);
        });
    }

    /// After the back-off ending at `until`, starts the half-open probe (unless a call did).
    fn wake_at(self: &Arc<Self>, until: Instant) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the next call after the back-off starts the probe
        };
        let breaker: Weak<Breaker> = Arc::downgrade(self);
        runtime.spawn(async move {
            tokio::time::sleep_until(until.into()).await;
            if let Some(breaker) = breaker.upgrade() {
                breaker.admit();
            }
        });
    }

    fn observe(self: &Arc<Self>, before: Phase, after: Phase, until: Option<Instant>) {
        if before != after {
            match after {
                Phase::Open => tracing::warn!(breaker = self.name, "circuit breaker open"),
                Phase::HalfOpen => tracing::info!(breaker = self.name, "circuit breaker probing"),
                Phase::Closed => tracing::info!(breaker = self.name, "circuit breaker closed"),
            }
            (self.observer)(after);
            self.phases.send_replace(after);
            if let (Phase::Open, Some(until)) = (after, until) {
                self.wake_at(until);
            }
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

    /// A breaker opened by a timeout its confirming probe confirmed at `t0`.
    fn opened(t0: Instant) -> Machine {
        let mut m = Machine::new(policy());
        assert_eq!(m.admit(t0), Admission::Call);
        assert!(m.record(Admission::Call, Outcome::Timeout, t0));
        m.record(Admission::Confirm, Outcome::Timeout, t0);
        assert_eq!(m.phase(), Phase::Open);
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
    fn timeouts_alone_do_not_open_the_breaker_they_start_one_confirming_probe() {
        let t0 = Instant::now();
        let mut m = Machine::new(policy());
        // The first timeout asks for a probe; the next ones (a busy machine times out every call
        // in flight at once) do not ask again, and none counts as a failure.
        assert!(m.record(Admission::Call, Outcome::Timeout, t0));
        for _ in 0..10 {
            assert!(!m.record(Admission::Call, Outcome::Timeout, t0));
        }
        assert_eq!(m.phase(), Phase::Closed);
        assert_eq!(m.admit(t0), Admission::Call);
        // The server answers the probe: the suspicion is dropped, a later timeout probes again.
        m.record(Admission::Confirm, Outcome::Success, t0);
        assert_eq!(m.phase(), Phase::Closed);
        assert!(m.record(Admission::Call, Outcome::Timeout, t0));
    }

    #[test]
    fn a_failure_or_timeout_confirmed_by_a_failing_probe_opens_the_breaker() {
        let t0 = Instant::now();
        for (call, probe) in [
            (Outcome::Timeout, Outcome::Timeout),
            (Outcome::Timeout, Outcome::Failure),
            (Outcome::Failure, Outcome::Failure),
        ] {
            let mut m = Machine::new(policy());
            assert!(m.record(Admission::Call, call, t0), "{call:?}");
            assert_eq!(m.phase(), Phase::Closed);
            m.record(Admission::Confirm, probe, t0);
            assert_eq!(m.phase(), Phase::Open, "{call:?} then {probe:?}");
            assert_eq!(m.open_until(), Some(t0 + 100 * MS));
        }
    }

    #[test]
    fn a_confirming_probe_nobody_awaits_does_not_move_the_breaker() {
        let t0 = Instant::now();
        let mut m = Machine::new(policy());
        m.record(Admission::Confirm, Outcome::Failure, t0);
        assert_eq!(m.phase(), Phase::Closed);
        let mut m = opened(t0);
        m.record(Admission::Confirm, Outcome::Success, t0 + MS);
        assert_eq!(m.phase(), Phase::Open);
    }

    #[test]
    fn after_the_backoff_one_probe_is_admitted_and_every_other_call_refused() {
        let t0 = Instant::now();
        let mut m = opened(t0);
        assert_eq!(m.admit(t0 + 99 * MS), Admission::Refused);
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
        for _ in 0..3 {
            m.record(Admission::Call, Outcome::Failure, t0 + 400 * MS);
        }
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

    /// The phases a breaker reported.
    type Seen = Arc<Mutex<Vec<Phase>>>;

    /// A breaker whose probes answer what `answers` holds (its last entry once drained), with
    /// the phases it reported and the number of probes it ran.
    fn scripted(
        failures_to_open: u32,
        backoff: Duration,
        answers: Vec<Outcome>,
    ) -> (Arc<Breaker>, Seen, Arc<Mutex<u32>>) {
        let seen: Seen = Arc::default();
        let probes: Arc<Mutex<u32>> = Arc::default();
        let log = seen.clone();
        let count = probes.clone();
        let answers = Arc::new(Mutex::new(answers));
        let breaker = Breaker::new(
            "test",
            BreakerPolicy {
                failures_to_open,
                first_backoff: backoff,
                max_backoff: backoff,
            },
            Box::new(move |p| log.lock().unwrap().push(p)),
            Box::new(move || {
                *count.lock().unwrap() += 1;
                let mut answers = answers.lock().unwrap();
                let answer = if answers.len() > 1 {
                    answers.remove(0)
                } else {
                    answers[0]
                };
                Box::pin(async move { answer })
            }),
        );
        (breaker, seen, probes)
    }

    async fn until_phase(breaker: &Breaker, phase: Phase) {
        for _ in 0..500 {
            if breaker.phase() == phase {
                return;
            }
            tokio::time::sleep(MS).await;
        }
        panic!("the breaker stayed {:?}, not {phase:?}", breaker.phase());
    }

    #[tokio::test]
    async fn a_timeout_the_probe_answers_keeps_the_breaker_closed() {
        let (breaker, seen, probes) = scripted(3, 10 * MS, vec![Outcome::Success]);
        for _ in 0..5 {
            assert_eq!(breaker.admit(), Admission::Call);
            breaker.record(Admission::Call, Outcome::Timeout);
        }
        tokio::time::sleep(20 * MS).await;
        assert_eq!(breaker.phase(), Phase::Closed);
        assert_eq!(*probes.lock().unwrap(), 1, "one confirming probe");
        assert_eq!(*seen.lock().unwrap(), [Phase::Closed]);
    }

    #[tokio::test]
    async fn the_breaker_probes_by_itself_and_reports_each_phase_it_enters_once() {
        // The confirming probe fails, the first half-open probe too, the next one answers.
        let (breaker, seen, probes) = scripted(
            3,
            5 * MS,
            vec![Outcome::Timeout, Outcome::Failure, Outcome::Success],
        );
        assert_eq!(breaker.admit(), Admission::Call);
        breaker.record(Admission::Call, Outcome::Timeout);
        until_phase(&breaker, Phase::Open).await;
        assert_eq!(breaker.admit(), Admission::Refused);
        // No call comes: the timer probes after each back-off.
        until_phase(&breaker, Phase::Closed).await;
        assert_eq!(*probes.lock().unwrap(), 3);
        assert_eq!(breaker.admit(), Admission::Call);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                Phase::Closed,
                Phase::Open,
                Phase::HalfOpen,
                Phase::Open,
                Phase::HalfOpen,
                Phase::Closed
            ]
        );
    }
}
