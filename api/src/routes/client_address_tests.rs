//! The client address behind trusted proxies (`routes::client_address`, `limit_key`).

use std::net::IpAddr;

use ipnet::IpNet;

use super::{client_address, limit_key};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| n.parse().unwrap()).collect()
}

#[test]
fn an_untrusted_peers_forwarding_headers_are_ignored() {
    let trusted = nets(&["10.0.0.0/8"]);
    let peer = ip("203.0.113.9");
    assert_eq!(
        client_address(peer, &["for=198.51.100.1"], &["198.51.100.2"], &trusted),
        peer
    );
    assert_eq!(client_address(peer, &[], &["1.1.1.1"], &[]), peer);
}

#[test]
fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
    let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
    let proxy = ip("127.0.0.1");
    // A client may prepend anything; only what the trusted proxies appended counts.
    assert_eq!(
        client_address(proxy, &[], &["6.6.6.6, 198.51.100.7, 10.1.2.3"], &trusted),
        ip("198.51.100.7")
    );
    assert_eq!(
        client_address(proxy, &[], &["6.6.6.6", "198.51.100.8"], &trusted),
        ip("198.51.100.8"),
        "several header lines are one list"
    );
    assert_eq!(
        client_address(
            proxy,
            &["for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.2"],
            &["9.9.9.9"],
            &trusted
        ),
        ip("2001:db8:cafe::17"),
        "Forwarded wins over X-Forwarded-For"
    );
    assert_eq!(
        client_address(proxy, &["for=192.0.2.60:8080;by=10.0.0.1"], &[], &trusted),
        ip("192.0.2.60")
    );
    assert_eq!(
        client_address(proxy, &[], &["10.0.0.5, 10.0.0.6"], &trusted),
        ip("10.0.0.5"),
        "only proxies: the leftmost of them"
    );
    assert_eq!(
        client_address(proxy, &["for=_hidden"], &[], &trusted),
        proxy,
        "an obfuscated hop stops the walk at the last trusted one"
    );
    assert_eq!(client_address(proxy, &[], &[], &trusted), proxy);
}

#[test]
fn ipv6_clients_are_limited_per_slash_64_and_ipv4_per_address() {
    assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
    assert_eq!(
        limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
        "2001:db8:1:2::/64"
    );
    assert_ne!(limit_key(ip("2001:db8:1:3::1")), "2001:db8:1:2::/64");
    assert_eq!(limit_key(ip("198.51.100.7")), "198.51.100.7");
    assert_eq!(limit_key(ip("::ffff:198.51.100.7")), "198.51.100.7");
}
