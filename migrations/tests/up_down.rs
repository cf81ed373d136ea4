//! The migrations apply up and down on a fresh SQLite memory database, and on PostgreSQL when
//! `EPERMIT_TEST_DATABASE_URL` names an admin connection (a database with a random name is created
//! for the test and dropped after).

use migrations::{Migrator, MigratorTrait};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

const TABLES: [&str; 12] = [
    "residents",
    "staff",
    "refresh_tokens",
    "residences",
    "evidence",
    "applications",
    "permits",
    "permit_sequences",
    "endorsements",
    "signing_keys",
    "list_sequences",
    "audit_log",
];

async fn assert_tables(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        assert_eq!(
            manager.has_table(table).await.unwrap(),
            present,
            "table {table}"
        );
    }
}

async fn up_down_up(db: &DatabaseConnection) {
    Migrator::up(db, None).await.unwrap();
    assert_tables(db, true).await;
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::down(db, None).await.unwrap();
    assert_tables(db, false).await;
    Migrator::up(db, None).await.unwrap();
    assert_tables(db, true).await;
}

#[tokio::test]
async fn migrations_apply_up_and_down_on_sqlite() {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options
        .min_connections(1)
        .max_connections(1)
        .idle_timeout(None::<std::time::Duration>);
    let db = Database::connect(options).await.unwrap();
    up_down_up(&db).await;
}

/// `postgres://user@host:port/db?params` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[tokio::test]
async fn migrations_apply_up_and_down_on_postgres() {
    let Ok(admin_url) = std::env::var("EPERMIT_TEST_DATABASE_URL") else {
        eprintln!("EPERMIT_TEST_DATABASE_URL not set: PostgreSQL migration test skipped");
        return;
    };
    let name = format!("epermit_mig_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let db = Database::connect(with_database(&admin_url, &name))
        .await
        .unwrap();
    up_down_up(&db).await;
    db.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE \"{name}\""))
        .await
        .unwrap();
}
