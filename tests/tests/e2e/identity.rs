//! Identity claims (issue 12 item 5): `PUT /v1/me` is limited per account; an ID number held
//! elsewhere gets one answer that says nothing about who holds it; an officer resolves it at a
//! service counter (assign, release), audited.

use epermit_tests::fixtures::{assign_at_counter, days_ago, get, id_number, put, resident_id};
use epermit_tests::{TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

async fn import_one(app: &TestApp, id: &str, name: &str, district: &str) {
    let csv = format!(
        "id_number,name,district,address,start,end\n{id},{name},{district},城北街道丽泽社区,{},\n",
        days_ago(400)
    );
    let file = app.data_dir.path().join(format!("legacy-{id}.csv"));
    std::fs::write(&file, csv).unwrap();
    let report = api::commands::import::import_file(&app.state.store, &file)
        .await
        .unwrap();
    assert_eq!(report.imported, 1);
}

async fn set_profile(app: &TestApp, token: &str, name: &str, id: &str) -> (u16, Value) {
    let r = put(
        app,
        token,
        "/v1/me",
        json!({ "name": name, "id_number": id }),
    )
    .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn an_id_number_held_by_an_account_a_record_or_under_another_name_gets_one_answer() {
    let app = spawn_app().await;
    let held = id_number("33070219850101001");
    let imported = id_number("33070219850101002");
    let owner = app.resident_token("13700000101").await;
    assert_eq!(set_profile(&app, &owner, "张三", &held).await.0, 200);
    import_one(&app, &imported, "李四", "330702").await;

    let asker = app.resident_token("13700000102").await;
    let answers = [
        set_profile(&app, &asker, "张三", &held).await,
        set_profile(&app, &asker, "王五", &held).await,
        set_profile(&app, &asker, "李四", &imported).await,
        set_profile(&app, &asker, "王五", &imported).await,
    ];
    for (status, body) in &answers {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["type"], "id_number_unavailable", "{body}");
        assert_eq!(
            body["detail"],
            "this ID number cannot be used on this account: visit a service counter"
        );
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("request_id");
        v.as_object_mut().unwrap().remove("instance");
        v
    };
    assert!(
        answers
            .iter()
            .all(|(_, b)| strip(b) == strip(&answers[0].1)),
        "the same answer whoever holds it: {answers:?}"
    );
    // Nothing moved to the asker.
    let own: Value = get(&app, &asker, "/v1/residences")
        .await
        .json()
        .await
        .unwrap();
    assert!(own["items"].as_array().unwrap().is_empty());
    let me: Value = get(&app, &asker, "/v1/me").await.json().await.unwrap();
    assert_eq!(me["id_number"], Value::Null);
}

#[actix_web::test]
async fn profile_changes_are_limited_per_account() {
    let app = spawn_app_with(&[("EPERMIT_RATE_LIMITS__PROFILE_PER_HOUR", "3")]).await;
    let id = id_number("33070219850101003");
    let token = app.resident_token("13700000103").await;
    for _ in 0..3 {
        assert_eq!(set_profile(&app, &token, "张三", &id).await.0, 200);
    }
    let r = put(
        &app,
        &token,
        "/v1/me",
        json!({ "name": "张三", "id_number": id }),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "rate_limited");
    // Probing other numbers does not help either.
    let other = id_number("33070219850101004");
    assert_eq!(set_profile(&app, &token, "张三", &other).await.0, 429);
    // Another account has its own budget.
    let neighbour = app.resident_token("13700000104").await;
    assert_eq!(set_profile(&app, &neighbour, "李四", &other).await.0, 200);
}

#[actix_web::test]
async fn an_officer_assigns_an_imported_record_to_an_account_and_releases_a_wrong_number_audited() {
    let app = spawn_app().await;
    let record = id_number("33070219850101005");
    import_one(&app, &record, "李四", "330702").await;
    // Someone else set the imported person's number by mistake? Impossible now: refused.
    let token = app.resident_token("13700000105").await;
    let wrong = id_number("33070219850101006");
    assert_eq!(set_profile(&app, &token, "李四", &wrong).await.0, 200);

    let resident = app.resident_token("13700000106").await;
    assert_eq!(
        assign_at_counter(&app, &resident, &token, "李四", &record)
            .await
            .status(),
        403,
        "residents do not work the counter"
    );
    let yiwu = app
        .staff_token("yiwu", "officer", Some("330782"), None)
        .await;
    assert_eq!(
        assign_at_counter(&app, &yiwu, &token, "李四", &record)
            .await
            .status(),
        403,
        "the record is registered in 婺城区, not 义乌"
    );
    let wucheng = app
        .staff_token("wucheng", "officer", Some("330702"), None)
        .await;
    let r = assign_at_counter(&app, &wucheng, &token, "李四", &record).await;
    assert_eq!(r.status(), 409, "the account holds another number");
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "id_number_fixed");

    let id = resident_id(&app, &token).await;
    let release = format!("/v1/residents/{id}/id-number");
    let r = app
        .client
        .delete(app.url(&release))
        .bearer_auth(&wucheng)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id_number"], Value::Null);
    // The released number is free for its owner.
    let owner = app.resident_token("13700000107").await;
    assert_eq!(set_profile(&app, &owner, "王五", &wrong).await.0, 200);

    let r = assign_at_counter(&app, &wucheng, &token, "李四", &record).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["profile_complete"], true);
    let own: Value = get(&app, &token, "/v1/residences")
        .await
        .json()
        .await
        .unwrap();
    let own = own["items"].as_array().unwrap();
    assert_eq!(own.len(), 1, "the imported history moved to the account");
    assert_eq!(own[0]["source"], "imported");

    let admin = app.staff_token("admin", "admin", None, None).await;
    let log: Value = get(&app, &admin, "/v1/audit").await.json().await.unwrap();
    let actions: Vec<(&str, &str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["subject"].as_str().unwrap(),
            )
        })
        .filter(|(_, a, _)| a.starts_with("resident.id_number"))
        .collect();
    let subject = format!("resident:{id}");
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0].1, "resident.id_number.release");
    assert_eq!(actions[1].1, "resident.id_number.assign");
    assert!(
        actions
            .iter()
            .all(|(actor, _, s)| actor.starts_with("staff:") && *s == subject)
    );
    let text = log.to_string();
    assert!(
        !text.contains(&record) && !text.contains(&wrong),
        "the audit masks numbers"
    );
}
