//! Personal data sealed at rest (issue 12 item 8): a database dump (the SQLite file with its WAL,
//! or `pg_dump`) without the key directory holds no phone number, no ID number, no evidence
//! content; rows an older version stored in clear are sealed at start-up and keep working; the
//! data key is kept under the same custody rule as the signing keys.

use actix_web::web::Data;
use api::startup::Application;
use api::state::AppState;
use epermit_tests::fixtures::{Holder, days_ago, id_number, issued_permit};
use epermit_tests::{TestApp, dump_database, spawn_app};
use sea_orm::ConnectionTrait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const MARKER: &str = "EVIDENCE-MARKER-qz7Lw3";

/// The positions of `needle` in `haystack` (empty: not there).
fn occurrences(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

fn sha256_hex(bytes: &[u8]) -> String {
    api::store::sha256_hex(bytes)
}

/// The values that must not be found at rest.
fn secrets(phones: &[&str], ids: &[&str], extra: &[String]) -> Vec<String> {
    let mut all: Vec<String> = phones.iter().chain(ids).map(|s| (*s).to_owned()).collect();
    all.extend_from_slice(extra);
    all
}

/// `dump` without the staff usernames the fixtures derive from phones (`officer-<phone>`): those
/// are names the test chose, not personal data the service stores.
fn without_fixture_usernames(dump: &[u8], phones: &[&str]) -> Vec<u8> {
    let mut out = dump.to_vec();
    for phone in phones {
        let name = format!("officer-{phone}");
        while let Some(at) = out.windows(name.len()).position(|w| w == name.as_bytes()) {
            out.drain(at..at + name.len());
        }
    }
    out
}

fn assert_absent(dump: &[u8], secrets: &[String], what: &str) {
    let found: Vec<&String> = secrets
        .iter()
        .filter(|s| occurrences(dump, s) > 0)
        .collect();
    if let Some(first) = found.first() {
        let at = dump
            .windows(first.len())
            .position(|w| w == first.as_bytes())
            .unwrap_or(0);
        let context = &dump[at.saturating_sub(120)..(at + 60).min(dump.len())];
        eprintln!("found in clear at: {:?}", String::from_utf8_lossy(context));
    }
    assert!(found.is_empty(), "{what} holds {found:?} in clear");
}

#[actix_web::test]
async fn a_database_dump_without_the_key_directory_reveals_no_phone_id_number_or_evidence() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000201", "33070219900101201").await;
    let holder_id = id_number("33070219900101201");
    // A second resident with a profile of their own and evidence with a known marker.
    let token = app.resident_token("13900000202").await;
    let other_id = id_number("33070219900101202");
    let r = epermit_tests::fixtures::put(
        &app,
        &token,
        "/v1/me",
        json!({ "name": "李四", "id_number": other_id }),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Evidence with a known marker, stored as an application stores it.
    let evidence = format!("%PDF-1.7\n% {MARKER}\n%%EOF\n").into_bytes();
    let store = &app.state.store;
    api::store::evidence::put(
        store.conn(),
        store.sealer().unwrap(),
        "application/pdf",
        &evidence,
    )
    .await
    .unwrap();
    // The police view still shows the holder in clear (opened by the store).
    let police = app
        .staff_token("police1", "verifier", None, Some("police"))
        .await;
    let record: Value = epermit_tests::fixtures::get(
        &app,
        &police,
        &format!("/v1/permits/{}?purpose=case:ZJ-2026-000201", h.number),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(record["holder"]["phone"], h.phone);
    assert_eq!(record["holder"]["id_number"], holder_id);

    let dump = without_fixture_usernames(&app.database_dump(), &[h.phone.as_str()]);
    assert!(dump.len() > 4096, "a real dump: {} bytes", dump.len());
    let import_key = sha256_hex(format!("{holder_id}|330702|{}", days_ago(400)).as_bytes());
    let secrets = secrets(
        &[h.phone.as_str(), "13900000202"],
        &[holder_id.as_str(), other_id.as_str()],
        &[
            MARKER.to_owned(),
            sha256_hex(&evidence),
            sha256_hex(epermit_tests::fixtures::PDF),
            import_key,
        ],
    );
    assert_absent(&dump, &secrets, app.backend());
}

/// Starts another instance on the data directory and database of `app` (a restart).
async fn restart(app: &TestApp) -> Result<(String, Data<AppState>), api::startup::StartError> {
    let started = Application::build(app.state.settings.clone()).await?;
    let address = format!("http://127.0.0.1:{}", started.port());
    let state = started.state();
    actix_web::rt::spawn(started.run_until_stopped());
    Ok((address, state))
}

/// Rewrites the rows of `h` (phone, ID number, import key, evidence) into the form the previous
/// version stored: the clear columns filled, the sealed and index columns empty, the evidence in
/// clear under its plain SHA-256.
async fn store_in_clear_as_the_previous_version(app: &TestApp, h: &Holder, id: &str, start: &str) {
    let db = app.state.store.conn();
    let resident: i64 = {
        let me: Value = epermit_tests::fixtures::get(app, &h.token, "/v1/me")
            .await
            .json()
            .await
            .unwrap();
        me["id"].as_i64().unwrap()
    };
    let address: String = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT sha256 FROM evidence",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "sha256")
        .unwrap();
    let plain = sha256_hex(epermit_tests::fixtures::PDF);
    let blob = match app.backend() {
        "postgres" => format!(
            "decode('{}', 'hex')",
            hex::encode(epermit_tests::fixtures::PDF)
        ),
        _ => format!("X'{}'", hex::encode(epermit_tests::fixtures::PDF)),
    };
    let import_key = sha256_hex(format!("{id}|330702|{start}").as_bytes());
    for sql in [
        format!(
            "UPDATE residents SET phone = '{}', id_number = '{id}', phone_index = NULL, \
             phone_sealed = NULL, id_number_index = NULL, id_number_sealed = NULL \
             WHERE id = {resident}",
            h.phone
        ),
        format!(
            "UPDATE residences SET import_key = '{import_key}', import_index = NULL \
             WHERE resident_id = {resident}"
        ),
        format!(
            "INSERT INTO evidence (sha256, media_type, size, bytes, created_at) \
             SELECT '{plain}', media_type, size, {blob}, created_at FROM evidence \
             WHERE sha256 = '{address}'"
        ),
        format!("UPDATE applications SET evidence_sha256 = '{plain}'"),
        format!("DELETE FROM evidence WHERE sha256 = '{address}'"),
    ] {
        db.execute_unprepared(&sql).await.expect(&sql);
    }
}

#[actix_web::test]
async fn rows_stored_in_clear_by_the_previous_version_are_sealed_at_start_and_keep_working() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000203", "33070219900101203").await;
    let id = id_number("33070219900101203");
    let start = days_ago(400).to_string();
    store_in_clear_as_the_previous_version(&app, &h, &id, &start).await;
    let before = without_fixture_usernames(&app.database_dump(), &[h.phone.as_str()]);
    assert!(
        occurrences(&before, &h.phone) > 0 && occurrences(&before, &id) > 0,
        "the arranged rows are in clear"
    );

    let (address, state) = restart(&app).await.expect("the service restarts");
    let dump = without_fixture_usernames(
        &dump_database(
            state.settings.database_url().expose_secret(),
            &state.settings.data_dir,
        ),
        &[h.phone.as_str()],
    );
    let import_key = sha256_hex(format!("{id}|330702|{start}").as_bytes());
    assert_absent(
        &dump,
        &secrets(
            &[h.phone.as_str()],
            &[id.as_str()],
            &[sha256_hex(epermit_tests::fixtures::PDF), import_key],
        ),
        "the sealed database",
    );
    let again = api::sealing::carry_over(&state.store, state.store.sealer().unwrap())
        .await
        .unwrap();
    assert_eq!(again, api::sealing::CarriedOver::default(), "idempotent");

    let client = reqwest::Client::new();
    let url = |p: &str| format!("{address}{p}");
    // Login by phone finds the same resident.
    let r = client
        .post(url("/v1/auth/otp"))
        .json(&json!({ "phone": h.phone }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let code = app.last_code_for(&h.phone).expect("a code");
    let tokens: Value = client
        .post(url("/v1/auth/login"))
        .json(&json!({ "phone": h.phone, "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    let me: Value = client
        .get(url("/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old_me: Value = epermit_tests::fixtures::get(&app, &h.token, "/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], old_me["id"], "{me}");
    assert_eq!(me["profile_complete"], true);
    // The police view shows the holder's data in clear.
    let police = app
        .staff_token("police2", "verifier", None, Some("police"))
        .await;
    let record: Value = client
        .get(url(&format!(
            "/v1/permits/{}?purpose=case:ZJ-2026-000201",
            h.number
        )))
        .bearer_auth(&police)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(record["holder"]["phone"], h.phone, "{record}");
    assert_eq!(record["holder"]["id_number"], id);
    // The evidence reads back as uploaded.
    let applications: Value = client
        .get(url("/v1/applications"))
        .bearer_auth(&h.officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = applications["items"][0]["id"].as_i64().unwrap();
    let r = client
        .get(url(&format!("/v1/applications/{first}/evidence")))
        .bearer_auth(&h.officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        epermit_tests::fixtures::PDF
    );
    // A re-import of the legacy row finds it under its re-keyed key.
    let csv = format!(
        "id_number,name,district,address,start,end\n{id},张小明,330702,城北街道丽泽社区,{start},\n"
    );
    let report = api::commands::import::import_residences(
        &state.store,
        csv.as_bytes(),
        &api::commands::import::Progress::hidden(),
    )
    .await
    .unwrap();
    assert_eq!((report.imported, report.already_present), (0, 1));
}

#[actix_web::test]
async fn a_missing_or_swapped_data_key_with_sealed_rows_stops_start_up() {
    let app = spawn_app().await;
    app.resident_token("13900000204").await;
    let key = app
        .data_dir
        .path()
        .join("keys")
        .join(api::sealing::DATA_KEY_FILE);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the data key is owner-only");
    }
    let kept = std::fs::read(&key).unwrap();

    std::fs::remove_file(&key).unwrap();
    let err = restart(&app).await.err().expect("no start without the key");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            api::startup::StartError::Sealing(api::sealing::SealError::Missing { .. })
        ),
        "{text}"
    );
    assert!(
        text.contains("data.key") && text.contains("no new key"),
        "{text}"
    );
    assert!(!key.exists(), "no new key was generated");

    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let err = restart(&app)
        .await
        .err()
        .expect("no start with another key");
    assert!(
        matches!(
            err,
            api::startup::StartError::Sealing(api::sealing::SealError::Swapped { .. })
        ),
        "{err}"
    );

    std::fs::write(&key, kept).unwrap();
    restart(&app).await.expect("the kept key starts again");
}
