use std::time::{Duration, Instant};

use super::*;

const WINDOW: Duration = Duration::from_secs(60);

#[test]
fn a_lease_is_a_sixteenth_of_what_is_left_between_one_hit_and_the_largest() {
    assert_eq!(lease_size(10), 1, "small limits are counted hit by hit");
    assert_eq!(lease_size(31), 1);
    assert_eq!(lease_size(32), 2);
    assert_eq!(
        lease_size(119),
        7,
        "the verify limit per address, after its first hit"
    );
    assert_eq!(lease_size(599), 37, "the verify limit per verifier");
    assert_eq!(lease_size(20), 1, "the last hits of any limit one by one");
    assert_eq!(lease_size(1_000_000), MAX_LEASE);
    assert_eq!(lease_size(0), 1, "over the limit: one hit, to be refused");
}

#[test]
fn a_lease_gets_only_what_the_limit_has_left() {
    assert_eq!(granted(6, 6, 100), 6, "all of it fits");
    assert_eq!(granted(6, 100, 100), 6, "exactly");
    assert_eq!(
        granted(6, 103, 100),
        3,
        "others counted hits since the last answer"
    );
    assert_eq!(granted(6, 106, 100), 0, "nothing was left");
    assert_eq!(granted(1, 101, 100), 0, "over the limit");
    assert_eq!(granted(1, 1, 0), 0, "a limit of 0 allows nothing");
}

#[test]
fn the_first_lease_of_a_window_is_one_hit_then_a_share_of_what_is_left() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    assert_eq!(held.lease_size("b", now), 1, "nothing known of the window");
    held.take("b", 0, 990, now + WINDOW, now);
    assert_eq!(held.lease_size("b", now), lease_size(990));
    assert_eq!(held.lease_size("b", now + WINDOW), 1, "a new window");
    assert_eq!(held.lease_size("not held", now), 1);
}

#[test]
fn leased_hits_are_spent_one_by_one_and_count_down_like_an_unleased_counter() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    // A lease of 4 with 96 of the limit beyond it: the request that took it leaves 99.
    assert_eq!(held.take("b", 3, 96, now + WINDOW, now), 99);
    drop(held);
    let held = leases.buckets(["b", "other"]);
    assert_eq!(held.spend("b", now), Some(98));
    assert_eq!(held.spend("b", now), Some(97));
    assert_eq!(held.spend("b", now), Some(96));
    assert_eq!(held.spend("b", now), None, "spent: Redis must be asked");
    assert_eq!(held.spend("other", now), None);
    assert_eq!(held.spend("not held", now), None);
}

#[test]
fn a_lease_ends_with_its_window() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    held.take("b", 10, 0, now + WINDOW, now);
    assert_eq!(held.spend("b", now + WINDOW), None);
    assert!(!held.give_back("b", now + WINDOW));
    // A new window's lease replaces the old one's unspent hits.
    let later = now + WINDOW;
    assert_eq!(held.take("b", 1, 5, later + WINDOW, later), 6);
    assert_eq!(held.spend("b", later), Some(5));
    assert_eq!(held.spend("b", later), None);
}

#[test]
fn two_leases_for_one_window_add_up() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    held.take("b", 3, 50, now + WINDOW, now);
    // The second lease's answer saw the first one counted: headroom 46, spare 3 + 3 held.
    assert_eq!(held.take("b", 3, 46, now + WINDOW, now), 52);
    for _ in 0..6 {
        assert!(held.spend("b", now).is_some());
    }
    assert_eq!(held.spend("b", now), None);
}

#[test]
fn a_hit_given_back_returns_to_the_lease() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    assert!(!held.give_back("b", now), "no lease: Redis takes it back");
    held.take("b", 1, 10, now + WINDOW, now);
    assert_eq!(held.spend("b", now), Some(10));
    assert!(
        held.give_back("b", now),
        "a spent lease of this window takes it"
    );
    assert_eq!(held.spend("b", now), Some(10));
}

#[tokio::test]
async fn a_bucket_being_leased_keeps_other_leasing_requests_waiting() {
    let leases = Arc::new(Leases::default());
    let now = Instant::now();
    let mut first = leases.buckets(["b", "a"]);
    first.hold().await;
    let waiting = tokio::spawn({
        let leases = Arc::clone(&leases);
        async move {
            let mut second = leases.buckets(["a"]);
            assert_eq!(second.spend("a", now), None, "nothing leased yet");
            second.hold().await;
            second.spend("a", now)
        }
    });
    tokio::task::yield_now().await;
    assert!(
        !waiting.is_finished(),
        "the second request waits for the lease"
    );
    first.take("a", 5, 0, now + WINDOW, now);
    assert_eq!(
        leases.buckets(["a"]).spend("a", now),
        Some(4),
        "spending takes no hold"
    );
    drop(first);
    assert_eq!(waiting.await.unwrap(), Some(3), "and spends from it");
}

#[test]
fn buckets_with_nothing_left_are_dropped_once_many_are_kept() {
    let leases = Leases::default();
    let now = Instant::now();
    for i in 0..SWEEP_AT {
        let key = format!("ip:{i}");
        leases
            .buckets([key.as_str()])
            .take(&key, 5, 0, now + Duration::from_millis(300), now);
    }
    let live = leases.buckets(["live"]);
    assert_eq!(leases.kept(), SWEEP_AT + 1);
    std::thread::sleep(Duration::from_millis(400));
    leases.buckets(["fresh"]);
    assert_eq!(leases.kept(), 2, "the one in use and the new one");
    drop(live);
}
