//! The route pattern of a request, for its log line and metrics labels, without walking the
//! route table twice per request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use actix_web::dev::ServiceRequest;

/// The route pattern of each path that names a route without parameters (`/v1/verify`), as
/// [`ServiceRequest::match_pattern`] found it: that walks the whole route table, once more after
/// the router did, so each worker keeps what it found for such paths (at most one entry per route
/// without parameters; paths with parameters, unbounded, are looked up every time). The table
/// does not change while the service runs, so a kept pattern is what the walk would find again.
#[derive(Default)]
pub struct RoutePatterns(RefCell<HashMap<String, Rc<str>>>);

impl RoutePatterns {
    /// The route pattern of `req`'s path, `unmatched` when no route has it.
    pub fn of(&self, req: &ServiceRequest) -> Rc<str> {
        if let Some(kept) = self.0.borrow().get(req.path()) {
            return kept.clone();
        }
        let Some(pattern) = req.match_pattern() else {
            return Rc::from("unmatched");
        };
        let pattern: Rc<str> = Rc::from(pattern);
        if *pattern == *req.path() {
            self.0
                .borrow_mut()
                .insert(pattern.to_string(), pattern.clone());
        }
        pattern
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::dev::ServiceResponse;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::middleware::Next;
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    /// Answers with the route `RoutePatterns` gives and how many paths it keeps.
    async fn report_route(
        req: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
        let patterns = req.app_data::<RoutePatterns>().expect("patterns");
        let route = patterns.of(&req);
        let kept = patterns.0.borrow().len();
        let mut res = next.call(req).await?;
        let headers = res.headers_mut();
        headers.insert(
            HeaderName::from_static("x-route"),
            HeaderValue::from_str(&route).expect("header"),
        );
        headers.insert(HeaderName::from_static("x-kept"), HeaderValue::from(kept));
        Ok(res)
    }

    #[actix_web::test]
    async fn route_patterns_are_kept_only_for_paths_without_parameters() {
        let app = test::init_service(
            App::new()
                .app_data(RoutePatterns::default())
                .wrap(actix_web::middleware::from_fn(report_route))
                .route("/v1/things/{id}", web::get().to(HttpResponse::Ok))
                .route("/v1/verify", web::post().to(HttpResponse::Ok)),
        )
        .await;
        let mut seen = Vec::new();
        for (method, path) in [
            ("GET", "/v1/things/1"),
            ("GET", "/v1/things/2"),
            ("POST", "/v1/verify"),
            ("POST", "/v1/verify"),
            ("GET", "/nowhere"),
        ] {
            let req = test::TestRequest::default()
                .method(method.parse().expect("method"))
                .uri(path)
                .to_request();
            let res = test::call_service(&app, req).await;
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .expect(name)
                    .to_str()
                    .expect("text")
                    .to_owned()
            };
            seen.push((header("x-route"), header("x-kept")));
        }
        let expected = [
            ("/v1/things/{id}", "0"),
            ("/v1/things/{id}", "0"),
            ("/v1/verify", "1"),
            ("/v1/verify", "1"),
            ("unmatched", "1"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(r, k)| ((*r).to_owned(), (*k).to_owned()))
            .collect();
        assert_eq!(seen, expected);
    }
}
