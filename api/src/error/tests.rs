//! One test per conversion: the same error means the same status in every route.

use std::sync::Arc;

use actix_web::ResponseError;
use actix_web::body::to_bytes;
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
use serde_json::Value;

use super::*;

/// Status, `type`, `Retry-After` and the whole body of the answer `e` gives.
async fn answer(e: impl Into<ApiError>) -> (u16, String, Option<String>, String) {
    let response = e.into().error_response();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body()).await.unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    (
        status,
        doc["type"].as_str().unwrap().to_owned(),
        retry,
        text,
    )
}

fn sqlx(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

#[actix_web::test]
async fn a_missing_row_is_404_not_found() {
    let (status, code, _, _) = answer(StoreError::NotFound("application")).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
}

#[actix_web::test]
async fn a_unique_violation_is_409_conflict() {
    let (status, code, _, body) =
        answer(StoreError::Conflict("permits_number_key".to_owned())).await;
    assert_eq!((status, code.as_str()), (409, "conflict"));
    assert!(!body.contains("permits_number_key"), "{body}");
}

#[actix_web::test]
async fn a_database_out_of_reach_is_503_with_retry_after() {
    for err in [
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        sqlx(sea_orm::sqlx::Error::PoolTimedOut),
        sqlx(sea_orm::sqlx::Error::PoolClosed),
        sqlx(sea_orm::sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        ))),
    ] {
        let described = err.to_string();
        let (status, code, retry, _) = answer(StoreError::from(err)).await;
        assert_eq!(
            (status, code.as_str()),
            (503, "service_unavailable"),
            "{described}"
        );
        assert_eq!(retry.as_deref(), Some("5"), "{described}");
    }
}

#[actix_web::test]
async fn any_other_database_failure_is_an_opaque_500() {
    let err = sqlx(sea_orm::sqlx::Error::ColumnNotFound(
        "secret_column".to_owned(),
    ));
    let (status, code, retry, body) = answer(StoreError::from(err)).await;
    assert_eq!((status, code.as_str(), retry), (500, "internal", None));
    assert!(!body.contains("secret_column"), "{body}");
}

#[actix_web::test]
async fn a_corrupt_row_is_an_opaque_500() {
    let err = StoreError::Corrupt {
        table: "permits",
        problem: "district 1 is not a Jinhua code".to_owned(),
    };
    let (status, _, _, body) = answer(err).await;
    assert_eq!(status, 500);
    assert!(!body.contains("permits"), "{body}");
}

#[actix_web::test]
async fn a_shared_store_outage_is_503_and_a_corrupt_value_500() {
    let (status, code, retry, _) = answer(SharedStateError::Unavailable("refused".into())).await;
    assert_eq!((status, code.as_str()), (503, "service_unavailable"));
    assert!(retry.is_some());
    let (status, _, _, _) = answer(SharedStateError::Corrupt("x".into())).await;
    assert_eq!(status, 500);
}

#[actix_web::test]
async fn a_key_error_from_the_database_maps_like_the_database_and_others_are_500() {
    let down = KeyError::Store(StoreError::from(DbErr::ConnectionAcquire(
        ConnAcquireErr::Timeout,
    )));
    assert_eq!(answer(down).await.0, 503);
    let (status, _, _, body) = answer(KeyError::NoActiveKey("330702".into())).await;
    assert_eq!(status, 500);
    assert!(!body.contains("330702"), "{body}");
}

#[actix_web::test]
async fn a_policy_refusal_is_422_with_the_rules_code() {
    let (status, code, _, _) = answer(policy::Error::StartInFuture).await;
    assert_eq!((status, code.as_str()), (422, "start_in_future"));
}

#[actix_web::test]
async fn a_crypto_failure_is_an_opaque_500() {
    let err = crypto::keys::parse_public_key_hex("zz").unwrap_err();
    assert_eq!(answer(err).await.0, 500);
}

#[actix_web::test]
async fn at_names_the_field_of_a_refusal() {
    let (_, _, _, body) = answer(ApiError::from(policy::Error::StartInFuture).at("start")).await;
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["field"], "start");
}

#[actix_web::test]
async fn a_failed_sms_send_is_503_sms_unavailable_with_retry_after() {
    use crate::auth::code_sender::SendError;
    for err in [
        SendError::Refused(401),
        SendError::Failed {
            status: 500,
            attempts: 3,
        },
        SendError::Unreachable {
            kind: "timeout",
            attempts: 3,
        },
    ] {
        let (status, code, retry, _) = answer(err).await;
        assert_eq!((status, code.as_str()), (503, "sms_unavailable"));
        assert_eq!(retry.as_deref(), Some("10"));
    }
}
