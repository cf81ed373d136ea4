//! The approval's SQL replayed by pgbench (`tests/benches/approval.pgbench`), the ceiling the
//! issuance bench sets beside `pgbench -N` (issue 14, item 6): it still runs on the schema as
//! migrated, and leaves nothing behind. PostgreSQL only (pgbench speaks to nothing else).

use epermit_tests::approval_replay::{self, Approvals};
use epermit_tests::fixtures::{apply, post, registered_for_400_days};
use epermit_tests::side_by_side::Length;
use epermit_tests::spawn_app;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

#[actix_web::test]
async fn the_approval_replay_runs_on_the_schema_and_rolls_every_approval_back() {
    let app = spawn_app().await;
    if app.backend() != "postgres" {
        return; // pgbench needs PostgreSQL: the CI's PostgreSQL pass runs this.
    }
    let phone = "13900001581";
    let token = app.resident_token(phone).await;
    let officer = app
        .staff_token("officer-replay", "officer", Some("330702"), None)
        .await;
    registered_for_400_days(&app, &officer, &token, phone, "33070219900101158").await;
    let r = apply(&app, &token).await;
    assert_eq!(r.status(), 201, "apply: {}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let staff = api::store::staff::find_by_username(app.state.store.conn(), "officer-replay")
        .await
        .unwrap()
        .expect("the officer");
    let approvals = Approvals {
        first: id,
        last: id,
        officer: staff.id,
    };
    let url = app.state.settings.database_url().expose_secret().to_owned();
    let tps = actix_web::rt::task::spawn_blocking(move || {
        approval_replay::replay(&url, 2, Length::Transactions(5), approvals)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(tps > 0.0, "the replay ran: {tps} TPS");

    // Ten approvals replayed and rolled back: the application is still to be decided, and the
    // one approval that counts takes the district's first number of the year.
    let r = post(
        &app,
        &officer,
        &format!("/v1/applications/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 201, "approve: {}", r.text().await.unwrap());
    let permit: Value = r.json().await.unwrap();
    let number = permit["number"].as_str().unwrap();
    assert!(number.ends_with("-000001"), "{number}");
}
