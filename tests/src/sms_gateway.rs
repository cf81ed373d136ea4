//! [`FakeGateway`]: a local HTTP server on port 0 that plays the SMS gateway for the real
//! `SmsGatewaySender` (the request is documented in `api::auth::code_sender`). It records every
//! request and answers from a script the test can change while it runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

/// The API key the fake gateway expects (`Authorization: Bearer …`); anything else is 401.
pub const GATEWAY_KEY: &str = "test-gateway-key";

/// What the gateway does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Answers with this status at once.
    Status(u16),
    /// Sleeps this long, then answers 200.
    Sleep(Duration),
}

/// A request the gateway received.
#[derive(Clone, Debug)]
pub struct Received {
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// The JSON body (`phone`, `message`, `sender_id`, `message_id`).
    pub body: Value,
}

impl Received {
    /// The six-digit code in the message text.
    pub fn code(&self) -> Option<String> {
        let text = self.body["message"].as_str()?;
        let digits: Vec<char> = text.chars().collect();
        digits
            .windows(6)
            .find(|w| w.iter().all(char::is_ascii_digit))
            .map(|w| w.iter().collect())
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    /// Answers in turn; the last one repeats. Empty = 200.
    script: Vec<Answer>,
}

/// A running fake gateway.
pub struct FakeGateway {
    /// `http://127.0.0.1:<port>/v1/sms`.
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl FakeGateway {
    /// Starts a gateway answering 200 (see [`FakeGateway::answer`]).
    pub async fn start() -> FakeGateway {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v1/sms", web::post().to(handle))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind the fake gateway");
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        FakeGateway {
            url: format!("http://127.0.0.1:{port}/v1/sms"),
            shared,
        }
    }

    /// From now on answers `script` in turn, the last one repeating.
    pub fn answer(&self, script: &[Answer]) {
        let mut shared = self.shared.lock().unwrap();
        shared.script = script.to_vec();
        shared.received.clear();
    }

    /// Every request received since the last [`FakeGateway::answer`].
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// The code of the last message to `phone` that the gateway received.
    pub fn last_code_for(&self, phone: &str) -> Option<String> {
        self.received()
            .iter()
            .rev()
            .find(|r| r.body["phone"] == phone)
            .and_then(Received::code)
    }

    /// The settings that point the service at this gateway.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("EPERMIT_SMS_GATEWAY_URL", self.url.clone()),
            ("EPERMIT_SMS_API_KEY", GATEWAY_KEY.to_owned()),
        ]
    }
}

async fn handle(
    shared: web::Data<Mutex<Shared>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization");
    let answer = {
        let mut shared = shared.lock().unwrap();
        let n = shared.received.len();
        shared.received.push(Received {
            authorization: authorization.clone(),
            idempotency_key: header("idempotency-key"),
            body: body.into_inner(),
        });
        shared
            .script
            .get(n.min(shared.script.len().saturating_sub(1)))
            .copied()
            .unwrap_or(Answer::Status(200))
    };
    if authorization.as_deref() != Some(&format!("Bearer {GATEWAY_KEY}")[..]) {
        return HttpResponse::Unauthorized().finish();
    }
    match answer {
        Answer::Status(code) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).finish()
        }
        Answer::Sleep(d) => {
            actix_web::rt::time::sleep(d).await;
            HttpResponse::Ok().finish()
        }
    }
}
