//! What the end-to-end tests and the load benchmark arrange through the API: valid ID numbers,
//! dates, authenticated requests, an issued permit and a fresh presentation of it.

use chrono::{Duration, NaiveDate, Utc};
use crypto::qr_text::{self, QrKind};
use crypto::signer::{KeyFileSigner, Signer};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::TestApp;

/// Today in Asia/Shanghai.
pub fn today() -> NaiveDate {
    policy::calendar::today()
}

/// The day `n` days before today, as `YYYY-MM-DD`.
pub fn days_ago(n: i64) -> String {
    (today() - Duration::days(n)).to_string()
}

/// A valid GB 11643 number from 17 digits (the check character appended).
pub fn id_number(first17: &str) -> String {
    api::domain::IdNumber::with_check(first17)
}

/// `POST path` with a JSON body and a bearer token.
pub async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `PUT path` with a JSON body and a bearer token.
pub async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `GET path` with a bearer token.
pub async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A minimal PDF (told by its magic bytes).
pub const PDF: &[u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n";

/// `POST /v1/applications` on the employment basis with a PDF contract, district by default.
pub async fn apply(app: &TestApp, token: &str) -> reqwest::Response {
    let form = Form::new().text("basis", "employment").part(
        "evidence",
        Part::bytes(PDF.to_vec())
            .file_name("contract.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    app.client
        .post(app.url("/v1/applications"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A resident holding a freshly issued permit, and the officer who issued it.
pub struct Holder {
    pub token: String,
    pub officer: String,
    pub number: String,
    pub phone: String,
}

/// Makes the resident of `token` (phone `phone`) one who may apply in 婺城区: imports a 400-day
/// confirmed registration for the ID number of `id17` and has `officer` (of 330702) assign that
/// ID number, with the name 张小明, to the account at the counter.
pub async fn registered_for_400_days(
    app: &TestApp,
    officer: &str,
    token: &str,
    phone: &str,
    id17: &str,
) {
    let id = id_number(id17);
    let csv = format!(
        "id_number,name,district,address,start,end\n{id},张小明,330702,城北街道丽泽社区,{},\n",
        days_ago(400)
    );
    let file = app.data_dir.path().join(format!("legacy-{phone}.csv"));
    std::fs::write(&file, csv).unwrap();
    let imported = api::commands::import::import_file(&app.state.store, &file)
        .await
        .unwrap();
    assert_eq!(imported.imported, 1);
    // An imported record is not claimed by naming it: the officer assigns it at the counter.
    let r = assign_at_counter(app, officer, token, "张小明", &id).await;
    assert_eq!(r.status(), 200, "assign: {}", r.text().await.unwrap());
}

/// A resident [`registered_for_400_days`] who applied and whom the district officer approved: the
/// permit's number.
pub async fn issued_permit(app: &TestApp, phone: &str, id17: &str) -> Holder {
    let token = app.resident_token(phone).await;
    let officer = app
        .staff_token(&format!("officer-{phone}"), "officer", Some("330702"), None)
        .await;
    registered_for_400_days(app, &officer, &token, phone, id17).await;
    let r = apply(app, &token).await;
    assert_eq!(r.status(), 201, "apply: {}", r.text().await.unwrap());
    let application: Value = r.json().await.unwrap();
    let approve = format!("/v1/applications/{}/approve", application["id"]);
    let r = post(app, &officer, &approve, json!({})).await;
    assert_eq!(r.status(), 201, "approve");
    let permit: Value = r.json().await.unwrap();
    assert_eq!(
        post(app, &officer, &approve, json!({})).await.status(),
        409,
        "approving twice issues one permit"
    );
    Holder {
        token,
        officer,
        number: permit["number"].as_str().unwrap().to_owned(),
        phone: phone.to_owned(),
    }
}

/// The resident id of the account `token` logs in.
pub async fn resident_id(app: &TestApp, token: &str) -> i64 {
    let me: Value = get(app, token, "/v1/me").await.json().await.unwrap();
    me["id"].as_i64().expect("an id")
}

/// An officer (or admin) `staff` assigns `id_number` and `name` to the account of the resident
/// `token` at the service counter (`POST /v1/residents/{id}/id-number`).
pub async fn assign_at_counter(
    app: &TestApp,
    staff: &str,
    token: &str,
    name: &str,
    id_number: &str,
) -> reqwest::Response {
    let id = resident_id(app, token).await;
    post(
        app,
        staff,
        &format!("/v1/residents/{id}/id-number"),
        json!({ "name": name, "id_number": id_number }),
    )
    .await
}

/// Binds `device` to the holder's permit as the app does: a challenge, the device's proof over
/// it, and a one-time code sent to the holder's phone. The response of `PUT …/holder-key`.
pub async fn bind_device(
    app: &TestApp,
    holder: &Holder,
    device: &KeyFileSigner,
) -> reqwest::Response {
    let r = post(
        app,
        &holder.token,
        "/v1/permits/me/holder-key/challenge",
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 201, "challenge");
    let challenge: Value = r.json().await.unwrap();
    let mut bytes = [0u8; crypto::key_binding::CHALLENGE_LEN];
    hex::decode_to_slice(challenge["challenge"].as_str().unwrap(), &mut bytes).unwrap();
    let proof = crypto::key_binding::prove(device, &holder.number, &bytes).unwrap();
    let r = post(app, "", "/v1/auth/otp", json!({ "phone": holder.phone })).await;
    assert_eq!(r.status(), 202, "otp");
    let code = app.last_code_for(&holder.phone).unwrap();
    put(
        app,
        &holder.token,
        "/v1/permits/me/holder-key",
        json!({
            "public_key": crypto::keys::public_key_hex(&device.public_key()),
            "challenge": challenge["challenge"],
            "signature": hex::encode(proof),
            "code": code,
        }),
    )
    .await
}

/// The holder's `EP1:` credential, from `GET /v1/permits/me`.
pub async fn credential(app: &TestApp, token: &str) -> String {
    let me: Value = get(app, token, "/v1/permits/me")
        .await
        .json()
        .await
        .unwrap();
    me["credential"].as_str().unwrap().to_owned()
}

/// A fresh `EPP1:` presentation of the holder's credential, signed by `device`.
pub async fn presentation(app: &TestApp, token: &str, device: &KeyFileSigner) -> String {
    let (kind, cose) = qr_text::decode(&credential(app, token).await).unwrap();
    assert_eq!(kind, QrKind::Permit);
    let epp = crypto::presentation::present(&cose, device, Utc::now(), None).unwrap();
    qr_text::encode(QrKind::Presentation, &epp)
}

/// Every list the service serves now, as a verifier fetches them: the trust list, then each
/// status list the aggregation document names.
pub async fn served_lists(app: &TestApp) -> (Vec<u8>, Vec<Vec<u8>>) {
    let fetch = |path: String| async move {
        let r = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.bytes().await.unwrap().to_vec()
    };
    let trust = fetch("/v1/trust-list".to_owned()).await;
    let document: Value =
        serde_json::from_slice(&fetch("/v1/status-lists".to_owned()).await).unwrap();
    let mut status = Vec::new();
    for uri in document["status_lists"].as_array().unwrap() {
        let path = uri
            .as_str()
            .unwrap()
            .trim_start_matches(&app.state.settings.public_url);
        status.push(fetch(path.to_owned()).await);
    }
    (trust, status)
}

/// An officer's status change of permit `number` made at `now` the way another instance (or the
/// CLI) commits it — the permit's row and its status entry in one transaction — without this
/// instance's list cache being told.
pub async fn set_status_elsewhere(
    app: &TestApp,
    number: &str,
    to: api::store::permits::Status,
    now: chrono::DateTime<Utc>,
) {
    use api::store::{permits, status};
    let txn = app.state.store.begin().await.unwrap();
    let permit = permits::find_by_number(&txn, number)
        .await
        .unwrap()
        .unwrap();
    assert!(
        permits::set_status(&txn, permit.id, to, Some("核查中"))
            .await
            .unwrap()
    );
    let entry = status::current(&txn, permit.id).await.unwrap().unwrap();
    status::set(&txn, entry, to.into(), now).await.unwrap();
    txn.commit().await.unwrap();
}
