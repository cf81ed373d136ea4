//! Store tests: each runs on a fresh SQLite memory database, and again on a fresh PostgreSQL
//! database when `EPERMIT_TEST_DATABASE_URL` names an admin connection.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};

use super::applications::{self, Basis, Decision};
use super::audit::{self, AuditError, NewEntry};
use super::permits::{self, NewPermit};
use super::residences::{self, DistrictFilter, NewResidence, Source, Status as ResidenceStatus};
use super::residents::{AssignError, ProfileError};
use super::staff::{self, NewStaff, Role};
use super::{
    Store, StoreError, evidence, lists, refresh_tokens, residents, revocations, signing_keys,
};

/// A fresh database; `cleanup` drops a PostgreSQL one.
struct TestDb {
    store: Store,
    admin: Option<(DatabaseConnection, String)>,
}

impl TestDb {
    async fn cleanup(self) {
        if let Some((admin, name)) = self.admin {
            self.store.close().await.unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..cut]),
        None => format!("{}/{name}", &base[..cut]),
    }
}

/// The data key of every test store (one per process, kept nowhere).
fn sealer() -> &'static crate::sealing::Sealer {
    sealer_arc()
}

fn sealer_arc() -> &'static std::sync::Arc<crate::sealing::Sealer> {
    static SEALER: std::sync::OnceLock<std::sync::Arc<crate::sealing::Sealer>> =
        std::sync::OnceLock::new();
    SEALER.get_or_init(|| std::sync::Arc::new(crate::sealing::Sealer::ephemeral()))
}

/// SQLite memory always; PostgreSQL too when configured.
async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb {
        store: Store::connect("sqlite::memory:")
            .await
            .unwrap()
            .with_sealer(sealer_arc().clone()),
        admin: None,
    }];
    if let Ok(admin_url) = std::env::var("EPERMIT_TEST_DATABASE_URL") {
        let name = format!("epermit_store_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        let store = Store::connect(&with_database(&admin_url, &name))
            .await
            .unwrap()
            .with_sealer(sealer_arc().clone());
        dbs.push(TestDb {
            store,
            admin: Some((admin, name)),
        });
    }
    dbs
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn officer(store: &Store, name: &str) -> staff::Model {
    staff::create(
        store.conn(),
        NewStaff {
            username: name.to_owned(),
            password_hash: "$argon2id$dummy".to_owned(),
            role: Role::Officer,
            district: Some(330782),
            org_kind: None,
        },
    )
    .await
    .unwrap()
}

/// A resident with a submitted application in 330782.
async fn submitted_application(store: &Store, phone: &str) -> applications::Model {
    let resident = residents::find_or_create_by_phone(store.conn(), sealer(), phone)
        .await
        .unwrap();
    let stored = evidence::put(
        store.conn(),
        sealer(),
        "application/pdf",
        b"%PDF-1.7 contract",
    )
    .await
    .unwrap();
    applications::insert(
        store.conn(),
        resident.id,
        330782,
        Basis::Employment,
        &stored.sha256,
    )
    .await
    .unwrap()
}

/// Approve and issue in one transaction, as the route layer does. `Some(permit)` if this call won.
async fn approve_and_issue(
    store: Store,
    application_id: i64,
    officer_id: i64,
) -> Option<permits::Model> {
    let txn = store.begin().await.unwrap();
    let now = Utc::now();
    if !applications::decide(&txn, application_id, Decision::Approve, officer_id, now)
        .await
        .unwrap()
    {
        return None;
    }
    let application = applications::get(&txn, application_id).await.unwrap();
    let seq = permits::allocate_number(&txn, application.district, 2026)
        .await
        .unwrap();
    let permit = permits::insert(
        &txn,
        NewPermit {
            number: format!("{}-2026-{seq:06}", application.district),
            application_id,
            resident_id: application.resident_id,
            district: application.district,
            issued_on: day(2026, 3, 1),
            valid_until: day(2027, 3, 1),
            credential: String::new(),
        },
    )
    .await
    .unwrap();
    permits::set_credential(&txn, permit.id, "EP1:TEST")
        .await
        .unwrap();
    let entry = NewEntry {
        actor: format!("staff:{officer_id}"),
        action: "application.approve".to_owned(),
        subject: format!("application:{application_id}"),
        detail: serde_json::json!({ "permit": permit.number }),
    };
    audit::append(&txn, entry, now).await.unwrap();
    txn.commit().await.unwrap();
    Some(permit)
}

#[tokio::test]
async fn concurrent_approvals_of_one_application_issue_one_permit() {
    for db in databases().await {
        let store = db.store.clone();
        let officer = officer(&store, "wang").await;
        let application = submitted_application(&store, "13800000001").await;
        let tasks: Vec<_> = (0..2)
            .map(|_| tokio::spawn(approve_and_issue(store.clone(), application.id, officer.id)))
            .collect();
        let mut issued = Vec::new();
        for task in tasks {
            issued.extend(task.await.unwrap());
        }
        assert_eq!(issued.len(), 1, "exactly one approval wins");
        let permit = permits::find_by_application(store.conn(), application.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(permit.number, "330782-2026-000001");
        assert_eq!(permit.credential, "EP1:TEST");
        assert_eq!(
            applications::get(store.conn(), application.id)
                .await
                .unwrap()
                .status,
            applications::Status::Approved
        );
        // Approving again afterwards: refused, still one permit.
        assert!(
            approve_and_issue(store.clone(), application.id, officer.id)
                .await
                .is_none()
        );
        assert_eq!(
            permits::statuses(store.conn()).await.unwrap(),
            vec![(permit.id, permits::Status::Active)]
        );
        audit::verify_chain(store.conn()).await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_second_permit_for_one_application_is_a_conflict() {
    for db in databases().await {
        let store = &db.store;
        let application = submitted_application(store, "13800000002").await;
        let new = |number: &str| NewPermit {
            number: number.to_owned(),
            application_id: application.id,
            resident_id: application.resident_id,
            district: 330782,
            issued_on: day(2026, 3, 1),
            valid_until: day(2027, 3, 1),
            credential: String::new(),
        };
        permits::insert(store.conn(), new("330782-2026-000001"))
            .await
            .unwrap();
        let err = permits::insert(store.conn(), new("330782-2026-000002"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_number_allocations_are_unique_and_gapless() {
    for db in databases().await {
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let txn = store.begin().await.unwrap();
                    let n = permits::allocate_number(&txn, 330702, 2026).await.unwrap();
                    txn.commit().await.unwrap();
                    n
                })
            })
            .collect();
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.push(task.await.unwrap());
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=20).collect::<Vec<i64>>());
        // Another district and another year count separately; a rolled-back allocation is given back.
        assert_eq!(
            permits::allocate_number(db.store.conn(), 330703, 2026)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            permits::allocate_number(db.store.conn(), 330702, 2027)
                .await
                .unwrap(),
            1
        );
        let txn = db.store.begin().await.unwrap();
        assert_eq!(
            permits::allocate_number(&txn, 330702, 2026).await.unwrap(),
            21
        );
        drop(txn);
        assert_eq!(
            permits::allocate_number(db.store.conn(), 330702, 2026)
                .await
                .unwrap(),
            21
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_audit_chain_verifies_and_names_a_tampered_entry() {
    for db in databases().await {
        let store = &db.store;
        assert_eq!(audit::verify_chain(store.conn()).await.unwrap(), 0);
        let mut ids = Vec::new();
        for i in 0..5 {
            let txn = store.begin().await.unwrap();
            let entry = NewEntry {
                actor: "staff:1".to_owned(),
                action: "permit.suspend".to_owned(),
                subject: format!("permit:{i}"),
                detail: serde_json::json!({ "reason": "检查", "n": i }),
            };
            ids.push(audit::append(&txn, entry, Utc::now()).await.unwrap().id);
            txn.commit().await.unwrap();
        }
        assert_eq!(audit::verify_chain(store.conn()).await.unwrap(), 5);
        let rows = audit::list(store.conn(), 0, 10).await.unwrap();
        assert_eq!(rows[0].prev_hash, audit::GENESIS);
        assert_eq!(rows[1].prev_hash, rows[0].hash);

        store
            .conn()
            .execute_unprepared(&format!(
                "UPDATE audit_log SET detail = '{{\"reason\":\"x\"}}' WHERE id = {}",
                ids[2]
            ))
            .await
            .unwrap();
        match audit::verify_chain(store.conn()).await {
            Err(AuditError::BrokenLink { id }) => assert_eq!(id, ids[2]),
            other => panic!("expected a broken link, got {other:?}"),
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_audit_appends_keep_one_chain() {
    for db in databases().await {
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let txn = store.begin().await.unwrap();
                    let entry = NewEntry {
                        actor: "system".to_owned(),
                        action: "test".to_owned(),
                        subject: format!("n:{i}"),
                        detail: serde_json::json!({}),
                    };
                    audit::append(&txn, entry, Utc::now()).await.unwrap();
                    txn.commit().await.unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(audit::verify_chain(db.store.conn()).await.unwrap(), 10);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_taken_phone_is_a_conflict_and_find_or_create_is_idempotent() {
    for db in databases().await {
        let conn = db.store.conn();
        let a = residents::find_or_create_by_phone(conn, sealer(), "13800000003")
            .await
            .unwrap();
        let again = residents::find_or_create_by_phone(conn, sealer(), "13800000003")
            .await
            .unwrap();
        assert_eq!(a.id, again.id);
        let b = residents::find_or_create_by_phone(conn, sealer(), "13800000004")
            .await
            .unwrap();
        let err = residents::Entity::update_many()
            .col_expr(
                residents::Column::PhoneIndex,
                Expr::value(a.phone_index.clone()),
            )
            .filter(residents::Column::Id.eq(b.id))
            .exec(conn)
            .await;
        let err = StoreError::from(err.unwrap_err());
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert!(
            !err.to_string().contains("13800000003"),
            "no personal data in errors: {err}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_id_number_held_elsewhere_is_refused_alike_and_an_officer_assigns_an_imported_one() {
    for db in databases().await {
        let conn = db.store.conn();
        let a = residents::find_or_create_by_phone(conn, sealer(), "13800000005")
            .await
            .unwrap();
        let b = residents::find_or_create_by_phone(conn, sealer(), "13800000006")
            .await
            .unwrap();
        residents::set_profile(conn, sealer(), a.id, "张三", "33070219900101123X")
            .await
            .unwrap();
        let err = residents::set_profile(conn, sealer(), b.id, "李四", "33070219900101123X")
            .await
            .unwrap_err();
        assert!(matches!(err, ProfileError::IdNumberUnavailable), "{err:?}");

        // Imported by ID number: naming it, even under its imported name, claims nothing.
        let imported =
            residents::find_or_create_by_id_number(conn, sealer(), "330702199202021234", "王五")
                .await
                .unwrap();
        let mut registration = NewResidence::declared(
            imported.id,
            330702,
            "婺城区某街道".to_owned(),
            day(2024, 6, 1),
        );
        registration.status = ResidenceStatus::Confirmed;
        registration.source = Source::Imported;
        registration.import_key = Some(super::sha256_hex(b"330702199202021234|330702|2024-06-01"));
        assert!(
            residences::import(conn, registration.clone())
                .await
                .unwrap()
        );
        assert!(
            !residences::import(conn, registration).await.unwrap(),
            "a re-import changes nothing"
        );
        for name in ["王六", "王五"] {
            let err = residents::set_profile(conn, sealer(), b.id, name, "330702199202021234")
                .await
                .unwrap_err();
            assert!(
                matches!(err, ProfileError::IdNumberUnavailable),
                "one answer under any name: {err:?}"
            );
        }
        assert!(
            residences::list_by_resident(conn, b.id)
                .await
                .unwrap()
                .is_empty()
        );

        // At the counter: the phone account holding another's number is refused, the imported
        // record merges into b.
        let err = residents::assign_id_number(conn, sealer(), b.id, "张三", "33070219900101123X")
            .await
            .unwrap_err();
        assert!(
            matches!(err, AssignError::HeldByAccount(id) if id == a.id),
            "{err:?}"
        );
        let assigned =
            residents::assign_id_number(conn, sealer(), b.id, "王五", "330702199202021234")
                .await
                .unwrap();
        assert_eq!(
            (assigned.resident.id, assigned.merged_record),
            (b.id, Some(imported.id))
        );
        let err = residents::set_profile(conn, sealer(), b.id, "王五", "33070219900101123X")
            .await
            .unwrap_err();
        assert!(matches!(err, ProfileError::IdNumberFixed), "{err:?}");
        residents::set_profile(conn, sealer(), b.id, "王五", "330702199202021234")
            .await
            .expect("repeating the stored values is a no-op");
        assert_eq!(
            residences::list_by_resident(conn, b.id)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            residents::find_by_id_number(conn, sealer(), "330702199202021234")
                .await
                .unwrap()
                .is_some_and(|r| r.id == b.id)
        );
        // Released, the number is free again.
        assert_eq!(
            residents::release_id_number(conn, sealer(), a.id)
                .await
                .unwrap(),
            "33070219900101123X"
        );
        assert!(
            residents::find_by_id_number(conn, sealer(), "33070219900101123X")
                .await
                .unwrap()
                .is_none()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_name_is_corrected_until_the_first_application_then_fixed() {
    for db in databases().await {
        let conn = db.store.conn();
        let resident = residents::find_or_create_by_phone(conn, sealer(), "13800000007")
            .await
            .unwrap();
        residents::set_profile(conn, sealer(), resident.id, "张三丰", "33070219900101123X")
            .await
            .unwrap();
        residents::set_profile(conn, sealer(), resident.id, "张三", "33070219900101123X")
            .await
            .expect("a typo is corrected before applying");
        submitted_application(&db.store, "13800000007").await;
        let err =
            residents::set_profile(conn, sealer(), resident.id, "张三丰", "33070219900101123X")
                .await
                .unwrap_err();
        assert!(matches!(err, ProfileError::NameFixed), "{err:?}");
        let stored = residents::get(conn, resident.id).await.unwrap();
        assert_eq!(stored.name.as_deref(), Some("张三"), "nothing written");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn residences_are_declared_confirmed_ended_and_filtered() {
    for db in databases().await {
        let store = &db.store;
        let conn = store.conn();
        let officer = officer(store, "li").await;
        let resident = residents::find_or_create_by_phone(conn, sealer(), "13800000007")
            .await
            .unwrap();
        let r1 = residences::insert(
            conn,
            NewResidence::declared(resident.id, 330782, "义乌某路1号".into(), day(2025, 1, 1)),
        )
        .await
        .unwrap();
        assert_eq!(r1.status, ResidenceStatus::Declared);
        assert!(
            residences::confirm(conn, r1.id, officer.id, Utc::now())
                .await
                .unwrap()
        );
        assert!(
            !residences::confirm(conn, r1.id, officer.id, Utc::now())
                .await
                .unwrap()
        );
        assert!(residences::end(conn, r1.id, day(2025, 9, 1)).await.unwrap());
        assert!(
            !residences::end(conn, r1.id, day(2025, 10, 1))
                .await
                .unwrap()
        );
        let r2 = residences::insert(
            conn,
            NewResidence::declared(resident.id, 330782, "义乌某路2号".into(), day(2025, 9, 1)),
        )
        .await
        .unwrap();
        assert_eq!(
            residences::current_for_resident(conn, resident.id)
                .await
                .unwrap()
                .map(|r| r.id),
            Some(r2.id)
        );
        let all = residences::list_by_district(conn, 330782, DistrictFilter::default())
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        let declared = DistrictFilter {
            status: Some(ResidenceStatus::Declared),
            ..Default::default()
        };
        assert_eq!(
            residences::list_by_district(conn, 330782, declared)
                .await
                .unwrap()[0]
                .id,
            r2.id
        );
        let after = DistrictFilter {
            from: Some(day(2025, 10, 1)),
            ..Default::default()
        };
        assert_eq!(
            residences::list_by_district(conn, 330782, after)
                .await
                .unwrap()
                .len(),
            1
        );
        let before = DistrictFilter {
            to: Some(day(2025, 6, 1)),
            ..Default::default()
        };
        assert_eq!(
            residences::list_by_district(conn, 330782, before)
                .await
                .unwrap()[0]
                .id,
            r1.id
        );
        assert!(
            residences::list_by_district(conn, 330703, DistrictFilter::default())
                .await
                .unwrap()
                .is_empty()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn evidence_is_stored_once_by_content() {
    for db in databases().await {
        let conn = db.store.conn();
        let first = evidence::put(conn, sealer(), "image/png", b"\x89PNG...")
            .await
            .unwrap();
        let second = evidence::put(conn, sealer(), "image/png", b"\x89PNG...")
            .await
            .unwrap();
        assert!(first.inserted && !second.inserted);
        assert_eq!(first.sha256, second.sha256);
        let row = evidence::get(conn, sealer(), &first.sha256)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.bytes.as_slice(), row.size), (&b"\x89PNG..."[..], 7));
        assert!(evidence::get(conn, sealer(), "00").await.unwrap().is_none());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn refresh_tokens_are_spent_once_and_families_revoked() {
    for db in databases().await {
        let conn = db.store.conn();
        let now = Utc::now();
        let family = refresh_tokens::new_family();
        let hash = refresh_tokens::hash_token("opaque-1");
        let t1 = refresh_tokens::insert(
            conn,
            &hash,
            &family,
            "resident:1",
            now,
            now + chrono::Duration::days(30),
        )
        .await
        .unwrap();
        assert!(t1.is_usable(now));
        assert_eq!(
            refresh_tokens::find_by_hash(conn, &hash)
                .await
                .unwrap()
                .map(|t| t.id),
            Some(t1.id)
        );
        assert!(refresh_tokens::spend(conn, t1.id, now).await.unwrap());
        assert!(
            !refresh_tokens::spend(conn, t1.id, now).await.unwrap(),
            "a spent token is not spent twice"
        );
        let t2 = refresh_tokens::insert(
            conn,
            &refresh_tokens::hash_token("opaque-2"),
            &family,
            "resident:1",
            now,
            now,
        )
        .await
        .unwrap();
        assert_eq!(
            refresh_tokens::revoke_family(conn, &family, now)
                .await
                .unwrap(),
            2
        );
        assert!(!refresh_tokens::spend(conn, t2.id, now).await.unwrap());
        let dup = refresh_tokens::insert(conn, &hash, &family, "resident:1", now, now)
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn staff_failures_count_and_accounts_can_be_disabled() {
    for db in databases().await {
        let conn = db.store.conn();
        let account = officer(&db.store, "zhao").await;
        let duplicate = NewStaff {
            username: "zhao".to_owned(),
            password_hash: "x".to_owned(),
            role: Role::Admin,
            district: None,
            org_kind: None,
        };
        assert!(matches!(
            staff::create(conn, duplicate).await,
            Err(StoreError::Conflict(_))
        ));
        for n in 1..=5 {
            let after = staff::record_failed_login(conn, account.id).await.unwrap();
            assert_eq!(after, n);
        }
        staff::reset_failed_logins(conn, account.id).await.unwrap();
        let reset = staff::get(conn, account.id).await.unwrap();
        assert_eq!((reset.failed_logins, reset.locked_until), (0, None));
        let now = Utc::now();
        assert!(
            staff::set_disabled(conn, account.id, Some(now))
                .await
                .unwrap()
        );
        assert!(
            !staff::set_disabled(conn, account.id, Some(now))
                .await
                .unwrap()
        );
        let disabled = staff::get(conn, account.id).await.unwrap();
        assert_eq!(
            disabled.disabled_since().map(|t| t.timestamp_micros()),
            Some(now.timestamp_micros())
        );
        assert!(staff::set_disabled(conn, account.id, None).await.unwrap());
        assert!(!staff::get(conn, account.id).await.unwrap().is_disabled());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn revocation_epochs_start_at_zero_and_rise_by_one() {
    for db in databases().await {
        let txn = db.store.begin().await.unwrap();
        assert_eq!(revocations::epoch(&txn, "staff:1").await.unwrap(), 0);
        assert_eq!(
            revocations::bump(&txn, "staff:1", Utc::now())
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            revocations::bump(&txn, "staff:1", Utc::now())
                .await
                .unwrap(),
            2
        );
        assert_eq!(revocations::epoch(&txn, "resident:1").await.unwrap(), 0);
        txn.commit().await.unwrap();
        assert_eq!(
            revocations::epoch(db.store.conn(), "staff:1")
                .await
                .unwrap(),
            2
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn permits_change_status_but_revocation_is_final() {
    for db in databases().await {
        let store = &db.store;
        let conn = store.conn();
        let officer = officer(store, "qian").await;
        let application = submitted_application(store, "13800000008").await;
        let permit = approve_and_issue(store.clone(), application.id, officer.id)
            .await
            .unwrap();
        assert!(
            permits::set_status(conn, permit.id, permits::Status::Suspended, Some("check"))
                .await
                .unwrap()
        );
        permits::set_holder_key(conn, permit.id, "ab", Utc::now(), "127.0.0.1")
            .await
            .unwrap();
        permits::set_validity(conn, permit.id, day(2028, 3, 1), Some(day(2027, 2, 15)))
            .await
            .unwrap();
        assert!(
            permits::set_status(conn, permit.id, permits::Status::Revoked, Some("fraud"))
                .await
                .unwrap()
        );
        assert!(
            !permits::set_status(conn, permit.id, permits::Status::Active, None)
                .await
                .unwrap()
        );
        let row = permits::find_by_number(conn, &permit.number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.status, row.holder_key.as_deref()),
            (permits::Status::Revoked, Some("ab"))
        );
        assert_eq!(
            (row.valid_until, row.last_endorsed),
            (day(2028, 3, 1), Some(day(2027, 2, 15)))
        );
        assert_eq!(
            permits::find_by_resident(conn, application.resident_id)
                .await
                .unwrap()
                .map(|p| p.id),
            Some(permit.id)
        );
        assert!(matches!(
            permits::get(conn, 9999).await,
            Err(StoreError::NotFound(_))
        ));

        let endorsement = super::endorsements::NewEndorsement {
            permit_id: permit.id,
            day: day(2027, 3, 10),
            timing: super::endorsements::Timing::Late,
            lapse_from: Some(day(2027, 3, 1)),
            lapse_until: Some(day(2027, 3, 10)),
            district: 330782,
        };
        super::endorsements::insert(conn, endorsement)
            .await
            .unwrap();
        assert_eq!(
            super::endorsements::list_by_permit(conn, permit.id)
                .await
                .unwrap()
                .len(),
            1
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn applications_are_listed_and_rejected_once() {
    for db in databases().await {
        let store = &db.store;
        let conn = store.conn();
        let officer = officer(store, "sun").await;
        let application = submitted_application(store, "13800000009").await;
        let queue = applications::list(conn, Some(applications::Status::Submitted), Some(330782))
            .await
            .unwrap();
        assert_eq!(queue.len(), 1);
        assert!(
            applications::list(conn, None, Some(330703))
                .await
                .unwrap()
                .is_empty()
        );
        let reject = Decision::Reject {
            reason: "evidence unreadable".to_owned(),
        };
        assert!(
            applications::decide(conn, application.id, reject.clone(), officer.id, Utc::now())
                .await
                .unwrap()
        );
        assert!(
            !applications::decide(
                conn,
                application.id,
                Decision::Approve,
                officer.id,
                Utc::now()
            )
            .await
            .unwrap()
        );
        let row = applications::get(conn, application.id).await.unwrap();
        assert_eq!(
            (row.status, row.reason.as_deref()),
            (applications::Status::Rejected, Some("evidence unreadable"))
        );
        assert_eq!(
            applications::list_by_resident(conn, application.resident_id)
                .await
                .unwrap()
                .len(),
            1
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn signing_keys_rotate_and_list_sequences_increase() {
    for db in databases().await {
        let conn = db.store.conn();
        let now = Utc::now();
        signing_keys::insert(conn, "00112233aabbccdd", None, "aa", now)
            .await
            .unwrap();
        signing_keys::insert(conn, "1111111111111111", Some(330782), "bb", now)
            .await
            .unwrap();
        assert!(
            signing_keys::retire(conn, "1111111111111111", now)
                .await
                .unwrap()
        );
        assert!(
            !signing_keys::retire(conn, "1111111111111111", now)
                .await
                .unwrap()
        );
        signing_keys::insert(conn, "2222222222222222", Some(330782), "cc", now)
            .await
            .unwrap();
        let active = signing_keys::active_for(conn, Some(330782))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(active.kid, "2222222222222222");
        assert_eq!(
            signing_keys::active_for(conn, None)
                .await
                .unwrap()
                .unwrap()
                .kid,
            "00112233aabbccdd"
        );
        assert_eq!(signing_keys::list(conn).await.unwrap().len(), 3);
        assert!(
            signing_keys::mark_compromised(conn, "2222222222222222", now)
                .await
                .unwrap()
        );

        assert_eq!(
            lists::get(conn, lists::ListName::TrustList).await.unwrap(),
            0
        );
        assert_eq!(
            lists::bump(conn, lists::ListName::TrustList).await.unwrap(),
            1
        );
        assert_eq!(
            lists::bump(conn, lists::ListName::TrustList).await.unwrap(),
            2
        );
        assert_eq!(
            lists::bump(conn, lists::ListName::StatusList)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            lists::get(conn, lists::ListName::TrustList).await.unwrap(),
            2
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_sqlite_file_database_is_created_under_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");
    let store = Store::connect(&super::sqlite_url(&data)).await.unwrap();
    store.ping().await.unwrap();
    assert!(data.join("epermit.db").exists());
    store.close().await.unwrap();
    // Reopening applies no migration twice.
    let store = Store::connect(&super::sqlite_url(&data)).await.unwrap();
    store.ping().await.unwrap();
}

#[tokio::test]
async fn the_staff_lifecycle_migration_gives_existing_sessions_their_familys_first_login_time() {
    use migrations::{Migrator, MigratorTrait};
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, Some(2)).await.unwrap();
    let rows = [
        ("h1", "fam-a", "2026-11-01T08:00:00.250+00:00"),
        ("h2", "fam-a", "2026-11-20T08:00:00+00:00"),
        ("h3", "fam-b", "2026-11-25T10:30:00+00:00"),
    ];
    for (hash, family, created) in rows {
        db.execute_unprepared(&format!(
            "INSERT INTO refresh_tokens (token_hash, family, subject, expires_at, created_at) \
             VALUES ('{hash}', '{family}', 'resident:1', '{created}', '{created}')"
        ))
        .await
        .unwrap();
    }
    Migrator::up(&db, None).await.unwrap();
    let tokens = refresh_tokens::Entity::find().all(&db).await.unwrap();
    let login_of = |hash: &str| {
        tokens
            .iter()
            .find(|t| t.token_hash == hash)
            .map(|t| t.login_time().to_rfc3339())
    };
    assert_eq!(login_of("h1").as_deref(), Some("2026-11-01T08:00:00+00:00"));
    assert_eq!(login_of("h2"), login_of("h1"), "the family's first login");
    assert_eq!(login_of("h3").as_deref(), Some("2026-11-25T10:30:00+00:00"));
}
