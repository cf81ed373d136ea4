//! `Idempotency-Key` on `POST /v1/applications` (SPEC §4 "Flows", issue 14): the answer is kept in
//! the database with the application, so a retry after a restart replays it, a request that was
//! cut off half-way leaves its key free, and concurrent duplicates create one application and
//! all get its answer.

use std::time::Duration;

use epermit_tests::fixtures::{PDF, resident_id};
use epermit_tests::{TestApp, spawn_app};
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect, Statement};
use serde_json::Value;

use crate::applications::{eligible_resident, form, own_applications, submit};
use crate::residences::assert_problem;

/// The `key_hash` of every idempotency record.
async fn stored_key_hashes(app: &TestApp) -> Vec<String> {
    let db = app.state.store.conn();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT key_hash FROM idempotency_records",
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| row.try_get::<String>("", "key_hash").unwrap())
    .collect()
}

#[actix_web::test]
async fn a_submission_retried_after_a_restart_replays_the_first_answer() {
    let mut app = spawn_app().await;
    let resident = eligible_resident(&app, "13900001401", "33070219900101401", "330702").await;
    let first = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("retry-after-restart"),
    )
    .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    app.restart().await;

    let again = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("retry-after-restart"),
    )
    .await;
    assert_eq!(again.status(), 201, "{}", app.backend());
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = submit(
        &app,
        &resident,
        form("housing", PDF, "application/pdf"),
        Some("retry-after-restart"),
    )
    .await;
    assert_problem(
        other,
        422,
        "idempotency_key_reused",
        Some("Idempotency-Key"),
    )
    .await;
    assert_eq!(own_applications(&app, &resident).await.len(), 1);

    let hashes = stored_key_hashes(&app).await;
    assert_eq!(hashes.len(), 1);
    assert!(
        !hashes[0].contains("retry-after-restart") && hashes[0].len() == 64,
        "the key is stored as a keyed hash, never as sent"
    );
}

#[actix_web::test]
async fn a_submission_killed_in_its_transaction_leaves_its_key_free() {
    let mut app = spawn_app().await;
    let resident = eligible_resident(&app, "13900001402", "33070219900101402", "330702").await;
    let id = resident_id(&app, &resident).await;

    // Another transaction holds the resident (SQLite: the write lock), so the submission waits
    // inside its own, having taken its key; then the service is killed.
    let store = app.state.store.clone();
    let hold = store.begin().await.unwrap();
    api::store::residents::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&hold)
        .await
        .unwrap();
    let request = app
        .client
        .post(app.url("/v1/applications"))
        .bearer_auth(&resident)
        .header("Idempotency-Key", "killed")
        .multipart(form("study", PDF, "application/pdf"))
        .send();
    let in_flight = actix_web::rt::spawn(request);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    app.stop(false).await;
    hold.rollback().await.unwrap();
    app.start_again().await;
    assert!(
        in_flight.await.unwrap().is_err(),
        "the killed request got no answer"
    );
    assert!(
        own_applications(&app, &resident).await.is_empty(),
        "the killed request wrote nothing"
    );

    let retry = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("killed"),
    )
    .await;
    assert_eq!(retry.status(), 201, "{}", app.backend());
    assert!(retry.headers().get("idempotency-replayed").is_none());
    assert_eq!(own_applications(&app, &resident).await.len(), 1);
}

#[actix_web::test]
async fn a_submission_refused_before_its_transaction_leaves_its_key_free() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900001403", "33070219900101403", "330702").await;
    let too_big = vec![b'%'; usize::try_from(app.state.settings.max_evidence_bytes).unwrap() + 1];
    let r = submit(
        &app,
        &resident,
        form("study", &too_big, "application/pdf"),
        Some("too-big"),
    )
    .await;
    assert_problem(r, 413, "evidence_too_large", None).await;
    let retry = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("too-big"),
    )
    .await;
    assert_eq!(retry.status(), 201);
    assert!(retry.headers().get("idempotency-replayed").is_none());
}

#[actix_web::test]
async fn eight_concurrent_submissions_with_one_key_create_one_application_and_get_one_answer() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900001404", "33070219900101404", "330702").await;
    let answers = futures_util::future::join_all((0..8).map(|_| async {
        let r = submit(
            &app,
            &resident,
            form("study", PDF, "application/pdf"),
            Some("eight-at-once"),
        )
        .await;
        let status = r.status().as_u16();
        let replayed = r.headers().get("idempotency-replayed").is_some();
        (status, replayed, r.text().await.unwrap())
    }))
    .await;
    for (status, _, body) in &answers {
        assert_eq!(*status, 201, "{}: {body}", app.backend());
        assert_eq!(body, &answers[0].2, "one answer for all");
    }
    let replayed = answers.iter().filter(|(_, replayed, _)| *replayed).count();
    assert_eq!(replayed, 7, "one ran, seven replayed it");
    assert_eq!(own_applications(&app, &resident).await.len(), 1);
}

#[actix_web::test]
async fn a_key_is_forgotten_after_a_day_and_its_record_swept() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900001405", "33070219900101405", "330702").await;
    let r = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("a-day-old"),
    )
    .await;
    assert_eq!(r.status(), 201);
    let db = app.state.store.conn();
    let day_ago = chrono::Utc::now() - chrono::Duration::hours(25);
    let backdate = sea_orm::sea_query::Query::update()
        .table(api::store::idempotency::Entity)
        .value(api::store::idempotency::Column::CreatedAt, day_ago)
        .to_owned();
    db.execute(&backdate).await.unwrap();

    // Not replayed: the request runs again, and meets the application it made a day ago.
    let r = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("a-day-old"),
    )
    .await;
    assert_problem(r, 409, "application_pending", None).await;

    let swept =
        api::store::idempotency::sweep(db, chrono::Utc::now() - chrono::Duration::hours(24))
            .await
            .unwrap();
    assert_eq!(swept, 1);
    assert!(stored_key_hashes(&app).await.is_empty());
}
