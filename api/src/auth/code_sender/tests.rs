//! The real senders against a local HTTP server that plays the gateway, and the outbox's mode.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

use super::*;

/// What the fake gateway does with the n-th request (the last entry repeats).
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    SleepMs(u64),
}

/// A request the fake gateway received.
#[derive(Clone, Debug)]
struct Received {
    authorization: Option<String>,
    idempotency_key: Option<String>,
    body: Value,
}

struct Gateway {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    _server: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

impl Gateway {
    async fn start(script: Vec<Answer>) -> Gateway {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (log, script) = (received.clone(), Arc::new(script));
        let server = HttpServer::new(move || {
            let (log, script) = (log.clone(), script.clone());
            App::new().route(
                "/send",
                web::post().to(move |req: HttpRequest, body: web::Json<Value>| {
                    let (log, script) = (log.clone(), script.clone());
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        };
                        let n = {
                            let mut log = log.lock().unwrap();
                            log.push(Received {
                                authorization: header("authorization"),
                                idempotency_key: header("idempotency-key"),
                                body: body.into_inner(),
                            });
                            log.len() - 1
                        };
                        match script[n.min(script.len() - 1)] {
                            Answer::Status(code) => HttpResponse::build(
                                actix_web::http::StatusCode::from_u16(code).unwrap(),
                            )
                            .finish(),
                            Answer::SleepMs(ms) => {
                                actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
                                HttpResponse::Ok().finish()
                            }
                        }
                    }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = actix_web::rt::spawn(server.run());
        Gateway {
            url: format!("http://127.0.0.1:{port}/send"),
            received,
            _server: server,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn settings(url: &str, timeout_ms: u64, retries: u32) -> SmsSettings {
    SmsSettings {
        gateway_url: Some(url.to_owned()),
        api_key: Some(SecretString::from("gw-key-s3cr3t")),
        timeout_ms,
        connect_timeout_ms: timeout_ms.min(500),
        retries,
        ..SmsSettings::default()
    }
}

fn phone() -> PhoneNumber {
    PhoneNumber::parse("13812345678").unwrap()
}

#[actix_web::test]
async fn a_code_reaches_the_gateway_with_the_key_as_a_bearer_header() {
    let gateway = Gateway::start(vec![Answer::Status(200)]).await;
    let sender = SmsGatewaySender::new(&settings(&gateway.url, 2000, 2), 5).unwrap();
    sender.send(&phone(), "123456").await.unwrap();
    let received = gateway.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.authorization.as_deref(), Some("Bearer gw-key-s3cr3t"));
    assert_eq!(r.body["phone"], "13812345678");
    assert_eq!(r.body["sender_id"], "金华居住证");
    let text = r.body["message"].as_str().unwrap();
    assert!(text.contains("123456") && text.contains("5分钟"), "{text}");
    assert_eq!(
        r.idempotency_key.as_deref(),
        r.body["message_id"].as_str(),
        "the header and the body carry one message id"
    );
}

#[actix_web::test]
async fn a_gateway_5xx_is_retried_with_the_same_message_id() {
    let gateway = Gateway::start(vec![
        Answer::Status(503),
        Answer::Status(502),
        Answer::Status(200),
    ])
    .await;
    let sender = SmsGatewaySender::new(&settings(&gateway.url, 2000, 2), 5).unwrap();
    sender.send(&phone(), "654321").await.unwrap();
    let received = gateway.received();
    assert_eq!(received.len(), 3);
    let ids: Vec<_> = received
        .iter()
        .map(|r| r.body["message_id"].clone())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

#[actix_web::test]
async fn a_gateway_that_always_fails_is_tried_retries_plus_one_times() {
    let gateway = Gateway::start(vec![Answer::Status(500)]).await;
    let sender = SmsGatewaySender::new(&settings(&gateway.url, 2000, 2), 5).unwrap();
    let err = sender.send(&phone(), "111111").await.unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Failed {
                status: 500,
                attempts: 3
            }
        ),
        "{err:?}"
    );
    assert_eq!(gateway.received().len(), 3);
}

#[actix_web::test]
async fn a_gateway_4xx_is_not_retried() {
    let gateway = Gateway::start(vec![Answer::Status(401), Answer::Status(200)]).await;
    let sender = SmsGatewaySender::new(&settings(&gateway.url, 2000, 3), 5).unwrap();
    let err = sender.send(&phone(), "222222").await.unwrap_err();
    assert!(matches!(err, SendError::Refused(401)), "{err:?}");
    assert_eq!(gateway.received().len(), 1);
}

#[actix_web::test]
async fn a_gateway_that_does_not_answer_in_time_fails_within_timeout_times_attempts() {
    let gateway = Gateway::start(vec![Answer::SleepMs(5_000)]).await;
    let (timeout_ms, retries) = (300, 2);
    let sender = SmsGatewaySender::new(&settings(&gateway.url, timeout_ms, retries), 5).unwrap();
    let started = Instant::now();
    let err = sender.send(&phone(), "333333").await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            SendError::Unreachable {
                kind: "timeout",
                attempts: 3
            }
        ),
        "{err:?}"
    );
    // Three attempts of 300 ms and the waits between them (100 + 200 ms), plus slack.
    let bound = Duration::from_millis(timeout_ms * u64::from(retries + 1) + 300 + 400);
    assert!(took < bound, "took {took:?}, bound {bound:?}");
    assert!(took >= Duration::from_millis(timeout_ms * 3), "{took:?}");
}

#[actix_web::test]
async fn an_unreachable_gateway_is_a_connection_error_not_a_hang() {
    // Nothing listens on port 1.
    let sender = SmsGatewaySender::new(&settings("http://127.0.0.1:1/send", 500, 1), 5).unwrap();
    let err = sender.send(&phone(), "444444").await.unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Unreachable {
                kind: "connect",
                attempts: 2
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_gateway_key_never_shows_in_debug_output() {
    let sender =
        SmsGatewaySender::new(&settings("https://sms.example.cn/send", 1000, 1), 5).unwrap();
    let text = format!(
        "{sender:?} {:?}",
        settings("https://sms.example.cn/send", 1000, 1)
    );
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(sender.describe(), "sms-gateway sms.example.cn");
}

#[test]
fn a_gateway_sender_needs_a_url_and_a_key() {
    let mut s = settings("https://sms.example.cn/send", 1000, 1);
    s.api_key = None;
    assert!(matches!(
        SmsGatewaySender::new(&s, 5),
        Err(GatewaySetupError::Missing("sms.api_key"))
    ));
    s.gateway_url = None;
    assert!(matches!(
        SmsGatewaySender::new(&s, 5),
        Err(GatewaySetupError::Missing("sms.gateway_url"))
    ));
}

#[cfg(unix)]
#[actix_web::test]
async fn the_outbox_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let sender = OutboxSender::new(dir.path(), &SmsSettings::default(), 5);
    sender.send(&phone(), "123456").await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a new outbox is created 0600: {mode:o}");
    // An outbox left world-readable by an older version is tightened at the next write.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    sender.send(&phone(), "654321").await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "an existing outbox is tightened: {mode:o}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains("654321"));
}
