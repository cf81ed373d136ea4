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

/// Brings `db` to the schema before `m20261202_000003_endorsement_once_a_day`, stores two
/// endorsements of one permit on one day (what a race could leave behind) beside others, and
/// applies the rest: the first of the two is kept, the rest carried over, and the index holds.
async fn duplicate_endorsements_are_carried_over_once(db: &DatabaseConnection, no_fk: &str) {
    Migrator::up(db, Some(2)).await.unwrap();
    // The rows reference permits this test does not create.
    db.execute_unprepared(no_fk).await.unwrap();
    for (id, permit, day) in [
        (1, 7, "2026-11-20"),
        (2, 7, "2026-11-20"),
        (3, 7, "2027-11-20"),
        (4, 8, "2026-11-20"),
    ] {
        db.execute_unprepared(&format!(
            "INSERT INTO endorsements (id, permit_id, day, timing, district, created_at) \
             VALUES ({id}, {permit}, '{day}', 'in_window', 330702, '2026-11-20T08:00:00Z')"
        ))
        .await
        .unwrap();
    }
    Migrator::up(db, None).await.unwrap();
    let rows = db
        .query_all_raw(sea_orm_migration::sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM endorsements ORDER BY id",
        ))
        .await
        .unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get("", "id").unwrap()).collect();
    assert_eq!(ids, [1, 3, 4], "the first of each permit's day is kept");
    let again = db
        .execute_unprepared(
            "INSERT INTO endorsements (permit_id, day, timing, district, created_at) \
             VALUES (7, '2026-11-20', 'late', 330702, '2026-11-20T09:00:00Z')",
        )
        .await;
    assert!(again.is_err(), "one endorsement per permit and day");
}

#[tokio::test]
async fn duplicate_endorsements_are_deduped_when_the_once_a_day_index_is_added_on_sqlite() {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options
        .min_connections(1)
        .max_connections(1)
        .idle_timeout(None::<std::time::Duration>);
    let db = Database::connect(options).await.unwrap();
    duplicate_endorsements_are_carried_over_once(&db, "PRAGMA foreign_keys = OFF").await;
}

#[tokio::test]
async fn duplicate_endorsements_are_deduped_when_the_once_a_day_index_is_added_on_postgres() {
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
    let mut options = ConnectOptions::new(with_database(&admin_url, &name));
    options.min_connections(1).max_connections(1);
    let db = Database::connect(options).await.unwrap();
    // Foreign keys are triggers on PostgreSQL: a replica session skips them.
    duplicate_endorsements_are_carried_over_once(&db, "SET session_replication_role = replica")
        .await;
    db.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
}
