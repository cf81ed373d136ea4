//! The embedded SQLite database in WAL mode (issue 14): readers are answered while a write is
//! held, instead of waiting for it or failing with "database is locked".

use std::time::{Duration, Instant};

use epermit_tests::fixtures::get;
use epermit_tests::spawn_app;
use sea_orm::sqlx::{Connection, Executor, SqliteConnection};
use sea_orm::{ConnectionTrait, Statement};
use secrecy::ExposeSecret;

/// `PRAGMA <name>` read on the service's own pool.
async fn pragma(app: &epermit_tests::TestApp, name: &str) -> String {
    let db = app.state.store.conn();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .unwrap()
}

#[actix_web::test]
async fn the_embedded_database_runs_in_wal_mode_with_normal_sync() {
    let app = spawn_app().await;
    if app.backend() != "sqlite" {
        return;
    }
    assert_eq!(pragma(&app, "journal_mode").await, "wal");
    assert_eq!(pragma(&app, "synchronous").await, "1", "NORMAL");
    assert!(app.data_dir.path().join("epermit.db-wal").exists());
}

#[actix_web::test]
async fn readers_are_answered_while_a_long_write_holds_the_database() {
    let app = spawn_app().await;
    if app.backend() != "sqlite" {
        return;
    }
    let token = app.resident_token("13900001410").await;
    // Another process writes, holding its transaction open for seconds.
    let url = app.state.settings.database_url().expose_secret().to_owned();
    let mut writer = SqliteConnection::connect(&url).await.unwrap();
    writer.execute("BEGIN EXCLUSIVE").await.unwrap();
    writer
        .execute("CREATE TABLE long_write (x INTEGER)")
        .await
        .unwrap();

    let started = Instant::now();
    let readers = futures_util::future::join_all(
        (0..8).map(|_| async { get(&app, &token, "/v1/applications").await.status() }),
    );
    let statuses = tokio::time::timeout(Duration::from_secs(3), readers).await;
    let waited = started.elapsed();
    writer.execute("COMMIT").await.unwrap();
    let statuses = statuses.expect("readers answered while the write is held");
    assert!(
        statuses.iter().all(|s| *s == 200),
        "no reader is refused: {statuses:?}"
    );
    assert!(waited < Duration::from_secs(2), "readers waited {waited:?}");
}
