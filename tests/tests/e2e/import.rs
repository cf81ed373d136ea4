//! `epermit import residences`: legacy registrations loaded idempotently, rejected rows reported
//! by line and reason without personal data.

use api::commands::import::{ImportError, Progress, import_file, import_residences};
use epermit_tests::spawn_app;
use serde_json::{Value, json};

use epermit_tests::fixtures::{assign_at_counter, days_ago, get, id_number};

#[actix_web::test]
async fn importing_the_same_file_twice_imports_nothing_the_second_time() {
    let app = spawn_app().await;
    let a = id_number("33070219800101001");
    let b = id_number("33078219800101002");
    let csv = format!(
        "id_number,name,district,address,start,end\n\
         {a},张三,330702,宾虹路 18 号,2023-01-01,2024-06-01\n\
         {a},张三,330703,金东路 1 号,2024-06-01,\n\
         {b},李四,330782,稠州北路 9 号,2022-03-15,\n"
    );
    let path = app.data_dir.path().join("legacy.csv");
    std::fs::write(&path, &csv).unwrap();

    let first = import_file(&app.state.store, &path)
        .await
        .expect("first run");
    assert_eq!(
        (first.imported, first.already_present, first.rejected),
        (3, 0, 0)
    );
    let second = import_file(&app.state.store, &path)
        .await
        .expect("second run");
    assert_eq!(
        (second.imported, second.already_present, second.rejected),
        (0, 3, 0)
    );

    // The registrations are confirmed and imported, and go with the ID number to the account an
    // officer assigns it to at the counter; naming it in a profile claims nothing.
    let token = app.resident_token("13700000001").await;
    let put_profile = |name: &'static str, id_number: String| {
        let (app, token) = (&app, token.clone());
        async move {
            app.client
                .put(app.url("/v1/me"))
                .bearer_auth(token)
                .json(&json!({ "name": name, "id_number": id_number }))
                .send()
                .await
                .unwrap()
        }
    };
    for name in ["张四", "张三"] {
        let r = put_profile(name, a.clone()).await;
        assert_eq!(r.status(), 409);
        assert_eq!(
            r.json::<Value>().await.unwrap()["type"],
            "id_number_unavailable"
        );
    }
    let own: Value = get(&app, &token, "/v1/residences")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["items"].as_array().unwrap().len(), 0);
    let wucheng = app
        .staff_token("wucheng", "officer", Some("330702"), None)
        .await;
    let r = assign_at_counter(&app, &wucheng, &token, "张三", &a).await;
    assert_eq!(r.status(), 200);
    // Once set, the ID number stays: another one is refused, the same one is a no-op.
    let r = put_profile("张三", b.clone()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "id_number_fixed");
    assert_eq!(put_profile("张三", a.clone()).await.status(), 200);
    let own: Value = get(&app, &token, "/v1/residences")
        .await
        .json()
        .await
        .unwrap();
    let own = own["items"].as_array().unwrap();
    assert_eq!(own.len(), 2);
    assert!(
        own.iter()
            .all(|r| r["status"] == "confirmed" && r["source"] == "imported")
    );
    assert_eq!(own[1]["district"], "330703");
    assert_eq!(own[1]["end"], Value::Null);

    let officer = app
        .staff_token("yiwu", "officer", Some("330782"), None)
        .await;
    let yiwu: Value = get(&app, &officer, "/v1/residences?status=confirmed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(yiwu["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn rejected_rows_are_reported_by_line_and_reason_without_personal_data() {
    let app = spawn_app().await;
    let good = id_number("33070219800101003");
    let mut bad_check = id_number("33070219800101004");
    let last = if bad_check.ends_with('0') { '1' } else { '0' };
    bad_check.replace_range(17.., &last.to_string());
    let csv = format!(
        "id_number,name,district,address,start,end\n\
         {good},王五,330702,宾虹路 18 号,2024-01-01,\n\
         {bad_check},赵六,330702,宾虹路 18 号,2024-01-01,\n\
         {good},王五,330101,杭州某路 1 号,2024-01-01,\n\
         {good},王五,330702,宾虹路 18 号,2024-02-30,\n\
         {good},王五,330702,宾虹路 18 号,2024-05-01,2024-04-01\n\
         {good},王五,330702,宾虹路 18 号,{},\n\
         {good},王五,330702,x,2024-01-01,\n\
         {good},王五,330702\n\
         {good},,330702,宾虹路 18 号,2024-01-01,\n",
        days_ago(-1)
    );
    let report = import_residences(&app.state.store, csv.as_bytes(), &Progress::hidden())
        .await
        .expect("import");
    assert_eq!(
        (report.imported, report.already_present, report.rejected),
        (1, 0, 8)
    );
    let rows: Vec<(u64, Option<&str>, &str)> = report
        .rejected_rows
        .iter()
        .map(|r| (r.line, r.field, r.reason))
        .collect();
    assert_eq!(
        rows,
        [
            (3, Some("id_number"), "invalid_id_number"),
            (4, Some("district"), "district_not_in_jinhua"),
            (5, Some("start"), "invalid_date"),
            (6, Some("end"), "period_ends_before_start"),
            (7, Some("start"), "date_in_future"),
            (8, Some("address"), "invalid_address"),
            (9, None, "wrong_field_count"),
            (10, Some("name"), "invalid_name"),
        ]
    );
    let text = serde_json::to_string(&report).unwrap();
    for secret in [good.as_str(), bad_check.as_str(), "王五", "赵六"] {
        assert!(
            !text.contains(secret),
            "the report must not contain personal data"
        );
    }
}

#[actix_web::test]
async fn an_unreadable_file_or_a_bad_header_imports_nothing() {
    let app = spawn_app().await;
    let missing = app.data_dir.path().join("missing.csv");
    assert!(matches!(
        import_file(&app.state.store, &missing).await,
        Err(ImportError::Unreadable(_))
    ));
    let csv = format!(
        "id,name,district,address,start,end\n{},王五,330702,宾虹路 18 号,2024-01-01,\n",
        id_number("33070219800101005")
    );
    let result = import_residences(&app.state.store, csv.as_bytes(), &Progress::hidden()).await;
    assert!(matches!(result, Err(ImportError::BadHeader)));
    let officer = app
        .staff_token("wucheng", "officer", Some("330702"), None)
        .await;
    let listed: Value = get(&app, &officer, "/v1/residences")
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["items"].as_array().unwrap().is_empty());
}
