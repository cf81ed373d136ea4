//! [`GuardedDb`]: the connection pool, behind the database's circuit [`Breaker`] on PostgreSQL
//! (issue 14 item 1; settings in `[database_breaker]`).
//!
//! Without it, a request made while PostgreSQL is down waits the whole acquire timeout
//! (`database_timeout_ms`, 5 s) for a connection before its 503: the pool retries refused
//! connections until then. With it, every statement sent outside a transaction ([`Store::conn`](super::Store::conn))
//! and every [`Store::begin`](super::Store::begin) and [`Store::ping`](super::Store::ping) asks the breaker first. What it records:
//!
//! - a **connection error** — the connection lost or refused, TLS or protocol failures, the
//!   server shutting down or starting (SQLSTATE class 08, 57P01–57P03) — is a failure; no
//!   connection within the acquire timeout is a timeout, and so is a call still unanswered after
//!   `suspect_after_ms` (it goes on waiting). Each has the breaker probe the server (below);
//!   `failures` in a row open it at once. When the breaker opens, calls still waiting (for a
//!   connection the pool keeps failing to open, say) are answered at once too;
//! - an **answer**, an error the server gave (a unique violation, a failed check, a syntax
//!   error) included, is a success: the database is there.
//!
//! The probe opens a fresh connection (not one from the pool, so a pool exhausted by a burst of
//! slow requests does not look like an outage) and runs `SELECT 1`, within
//! `probe_timeout_ms`: refused connections fail it in milliseconds, a hung server times it out.
//! While the breaker is open, calls fail at once with a connection error
//! ([`StoreError::Unavailable`](super::StoreError::Unavailable), HTTP 503 `service_unavailable`)
//! and `/readyz` answers 503 at once; the same probe runs after each back-off, and its success
//! closes the breaker — the pool then reconnects on its own (each idle connection is tested
//! before use, so the dead ones are replaced).
//!
//! Statements inside an open transaction are not guarded (the transaction holds its connection;
//! an outage fails them with the connection's own error).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement,
};

use crate::breaker::{Admission, Breaker, BreakerPolicy, Outcome, Phase, ProbeFn};

/// The pool, and the breaker in front of it once one is installed ([`super::Store::with_breaker`]).
#[derive(Clone)]
pub struct GuardedDb {
    db: DatabaseConnection,
    breaker: Option<Arc<Breaker>>,
    suspect_after: Duration,
}

impl std::fmt::Debug for GuardedDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedDb")
            .field("db", &self.db)
            .field("breaker", &self.phase())
            .finish()
    }
}

/// How the breaker is set up ([`super::Store::with_breaker`], `[database_breaker]`).
pub struct Guard {
    /// When it opens and for how long.
    pub policy: BreakerPolicy,
    /// Told each phase entered (the metrics).
    pub observer: Box<dyn Fn(Phase) + Send + Sync>,
    /// The longest a probe may take.
    pub probe_timeout: Duration,
    /// How long a call may go unanswered before the breaker probes the server (the call goes
    /// on; if the probe fails, the breaker opens and the call is answered 503 at once).
    pub suspect_after: Duration,
}

/// The error of a call the open breaker refused: a connection error, so HTTP 503.
fn refused() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(
        "the database is out (circuit breaker open)".to_owned(),
    ))
}

/// What a call's result says about the database.
fn outcome<T>(result: &Result<T, DbErr>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)) => Outcome::Timeout,
        Err(err) if super::is_unavailable(err) => Outcome::Failure,
        Err(_) => Outcome::Success,
    }
}

impl GuardedDb {
    /// `db` without a breaker.
    pub(super) fn new(db: DatabaseConnection) -> GuardedDb {
        GuardedDb {
            db,
            breaker: None,
            suspect_after: Duration::MAX,
        }
    }

    /// Puts the breaker in front of the pool (see [`Guard`]).
    pub(super) fn guard(&mut self, url: &str, guard: Guard) {
        let probe = probe(url.to_owned(), guard.probe_timeout);
        self.breaker = Some(Breaker::new(
            "database",
            guard.policy,
            guard.observer,
            probe,
        ));
        self.suspect_after = guard.suspect_after;
    }

    /// The pool itself, unguarded (closing it, handing it to the migrator).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The breaker's phase, if there is one.
    pub fn phase(&self) -> Option<Phase> {
        self.breaker.as_ref().map(|b| b.phase())
    }

    /// `call`, if the breaker admits it; its outcome recorded.
    pub(super) async fn guarded<T>(
        &self,
        call: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T, DbErr> {
        let Some(breaker) = &self.breaker else {
            return call.await;
        };
        if breaker.admit() != Admission::Call {
            return Err(refused());
        }
        let mut phases = breaker.watch();
        let mut call = std::pin::pin!(call);
        let slow = tokio::time::sleep(self.suspect_after);
        let mut slow = std::pin::pin!(slow);
        let mut suspected = false;
        loop {
            tokio::select! {
                result = &mut call => {
                    breaker.record(Admission::Call, outcome(&result));
                    return result;
                }
                () = &mut slow, if !suspected => {
                    suspected = true;
                    breaker.suspect();
                }
                changed = phases.changed() => {
                    // Opened while this call waited (for a connection, say): stop waiting.
                    if changed.is_err() || *phases.borrow_and_update() == Phase::Open {
                        return Err(refused());
                    }
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for GuardedDb {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.guarded(self.db.execute_raw(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.guarded(self.db.execute_unprepared(sql)).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.guarded(self.db.query_one_raw(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.guarded(self.db.query_all_raw(stmt)).await
    }

    fn support_returning(&self) -> bool {
        self.db.support_returning()
    }
}

/// The breaker's probe: a fresh connection to `url` and `SELECT 1`, within `timeout`. An
/// error the server answered with (too many connections, say) counts as an answer.
fn probe(url: String, timeout: Duration) -> ProbeFn {
    Box::new(move || {
        let url = url.clone();
        Box::pin(async move {
            match tokio::time::timeout(timeout, select_one(&url)).await {
                Err(_) => Outcome::Timeout,
                Ok(Ok(())) => Outcome::Success,
                Ok(Err(err)) if super::sqlx_unavailable(&err) => Outcome::Failure,
                Ok(Err(_)) => Outcome::Success,
            }
        })
    })
}

async fn select_one(url: &str) -> Result<(), sqlx::Error> {
    use sqlx::{ConnectOptions, Connection, Executor};
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let mut conn = options.disable_statement_logging().connect().await?;
    conn.execute("SELECT 1").await?;
    conn.close().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlx_err(err: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn connection_errors_count_against_the_database_and_answers_for_it() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            outcome::<()>(&Err(sqlx_err(sqlx::Error::Io(io)))),
            Outcome::Failure
        );
        assert_eq!(
            outcome::<()>(&Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))),
            Outcome::Timeout
        );
        assert_eq!(
            outcome::<()>(&Err(DbErr::ConnectionAcquire(
                ConnAcquireErr::ConnectionClosed
            ))),
            Outcome::Failure
        );
        // The server answered: a missing row, a refused value, a bad statement.
        assert_eq!(
            outcome::<()>(&Err(DbErr::RecordNotFound("x".into()))),
            Outcome::Success
        );
        assert_eq!(
            outcome::<()>(&Err(sqlx_err(sqlx::Error::RowNotFound))),
            Outcome::Success
        );
        assert_eq!(outcome(&Ok(())), Outcome::Success);
        // The breaker's own refusal is a connection error: HTTP 503.
        assert!(super::super::is_unavailable(&refused()));
    }

    /// A closed port on this machine: a fresh connection is refused at once.
    async fn closed_port() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn the_probe_fails_fast_on_a_refused_connection_and_times_out_on_a_silent_server() {
        let port = closed_port().await;
        let url = format!("postgres://postgres@127.0.0.1:{port}/none");
        assert_eq!(probe(url, Duration::from_secs(5))().await, Outcome::Failure);
        // A server that accepts and never answers (a hung one).
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "postgres://postgres@127.0.0.1:{}/none",
            silent.local_addr().unwrap().port()
        );
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        assert_eq!(
            probe(url, Duration::from_millis(200))().await,
            Outcome::Timeout
        );
        hold.abort();
    }

    #[tokio::test]
    async fn the_probe_passes_on_a_live_postgres() {
        let Ok(url) = std::env::var("EPERMIT_TEST_DATABASE_URL") else {
            return; // no PostgreSQL to probe
        };
        assert_eq!(probe(url, Duration::from_secs(5))().await, Outcome::Success);
    }
}
