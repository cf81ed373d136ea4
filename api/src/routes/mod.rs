//! The HTTP surface: one module per resource, each handler thin (extract → authorise → call a
//! workflow → respond). [`configure`] mounts them all through `utoipa-actix-web`, so each route is
//! registered together with its OpenAPI documentation and none can be served undocumented.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod lists;
pub mod me;
pub mod ops;
pub mod permits;
pub mod residences;
pub mod residents;
pub mod staff;

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;
use utoipa_actix_web::service_config::ServiceConfig;

#[cfg(test)]
mod client_address_tests;

/// The client's address as limits key it — an IPv4 address, or the /64 network of an IPv6 one
/// (one subscriber gets a whole /64) — and where a holder key was bound from. Forwarding headers
/// count only when the TCP peer is a trusted proxy (`trusted_proxies`); see
/// [`client_address`].
pub(crate) fn client_ip(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|state| state.settings.trusted_proxies.as_slice())
        .unwrap_or_default();
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".to_owned();
    };
    if !trusted.iter().any(|net| net.contains(&peer)) {
        // What `client_address` answers for an untrusted peer, without reading the headers.
        return limit_key(peer);
    }
    let headers = req.headers();
    let values = |name: &str| -> Vec<&str> {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    limit_key(client_address(
        peer,
        &values("forwarded"),
        &values("x-forwarded-for"),
        trusted,
    ))
}

/// The client behind `peer` (RFC 7239 §5.2, "the rightmost untrusted hop"): when `peer` is a
/// trusted proxy, the hops it reports — `Forwarded: for=` if present, else `X-Forwarded-For` —
/// are read from the right, skipping trusted proxies; the first other address is the client. An
/// untrusted peer's headers are ignored (anyone can write them), as are unparseable hops (an
/// obfuscated `for=_hidden`, `unknown`): then the last trusted hop is taken.
pub fn client_address(
    peer: IpAddr,
    forwarded: &[&str],
    x_forwarded_for: &[&str],
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = if forwarded.iter().any(|v| !v.trim().is_empty()) {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v))
            })
            .collect()
    } else {
        x_forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(parse_node)
            .collect()
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

/// An address of a `for=` node or an `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:80`,
/// `"[2001:db8::1]:443"`, `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let node = text.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.rsplit_once(':')
        .and_then(|(ip, _)| ip.parse::<std::net::Ipv4Addr>().ok())
        .map(IpAddr::V4)
}

/// The key per-client limits use: the IPv4 address, or the /64 of an IPv6 address (an
/// IPv4-mapped IPv6 address counts as IPv4).
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => ipnet::Ipv6Net::new(v6, 64)
                .map(|net| net.trunc().to_string())
                .unwrap_or_else(|_| v6.to_string()),
        },
    }
}

/// Mounts every route of the API (documented), `POST /v1/verify` first (see
/// [`permits::configure_verify`]). The docs pages themselves are mounted by
/// [`crate::openapi::serve`].
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.configure(permits::configure_verify)
        .configure(ops::configure)
        .configure(auth::configure)
        .configure(me::configure)
        .configure(residences::configure)
        .configure(applications::configure)
        .configure(permits::configure)
        .configure(lists::configure)
        .configure(audit::configure)
        .configure(staff::configure)
        .configure(residents::configure);
}
