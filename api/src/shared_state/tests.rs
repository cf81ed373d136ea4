//! One suite for both implementations: memory always, Redis when `EPERMIT_TEST_REDIS_URL` is set
//! (each run under a random key prefix, so runs do not collide).

use std::sync::Arc;
use std::time::Duration;

use super::lease::{LEASE_SPAN, MAX_LEASE, lease_size, next_lease, refill_at};
use super::*;

fn states() -> Vec<Arc<dyn SharedState>> {
    let mut states: Vec<Arc<dyn SharedState>> = vec![Arc::new(MemoryState::default())];
    if let Ok(url) = std::env::var("EPERMIT_TEST_REDIS_URL") {
        let prefix = format!("epermit:test:{}:", uuid::Uuid::new_v4().simple());
        states.push(Arc::new(RedisState::connect(&url, &prefix).unwrap()));
    }
    states
}

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_right_code_is_accepted_once() {
    for s in states() {
        s.ping().await.unwrap();
        s.put_otp("p1", "hash-a", MINUTE, 5).await.unwrap();
        assert_eq!(
            s.check_otp("p1", "hash-a").await.unwrap(),
            OtpCheck::Ok,
            "{}",
            s.kind()
        );
        assert_eq!(
            s.check_otp("p1", "hash-a").await.unwrap(),
            OtpCheck::Absent,
            "{}",
            s.kind()
        );
        assert_eq!(
            s.check_otp("never", "hash-a").await.unwrap(),
            OtpCheck::Absent
        );
    }
}

#[tokio::test]
async fn wrong_codes_count_down_and_the_last_voids_the_code() {
    for s in states() {
        s.put_otp("p2", "right", MINUTE, 3).await.unwrap();
        assert_eq!(
            s.check_otp("p2", "wrong").await.unwrap(),
            OtpCheck::Wrong { attempts_left: 2 }
        );
        assert_eq!(
            s.check_otp("p2", "wrong").await.unwrap(),
            OtpCheck::Wrong { attempts_left: 1 }
        );
        assert_eq!(
            s.check_otp("p2", "wrong").await.unwrap(),
            OtpCheck::TooManyAttempts {
                retry_after: Duration::ZERO
            },
            "{}",
            s.kind()
        );
        assert_eq!(
            s.check_otp("p2", "right").await.unwrap(),
            OtpCheck::Absent,
            "{}",
            s.kind()
        );
        // A new code starts afresh.
        s.put_otp("p2", "new", MINUTE, 3).await.unwrap();
        assert_eq!(s.check_otp("p2", "new").await.unwrap(), OtpCheck::Ok);
    }
}

#[tokio::test]
async fn a_code_expires() {
    for s in states() {
        s.put_otp("p3", "h", Duration::from_millis(50), 5)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(
            s.check_otp("p3", "h").await.unwrap(),
            OtpCheck::Absent,
            "{}",
            s.kind()
        );
    }
}

#[tokio::test]
async fn hits_beyond_the_limit_are_limited_until_the_window_ends() {
    for s in states() {
        for remaining in (0..3).rev() {
            assert_eq!(
                s.hit("ip:1", 3, MINUTE).await.unwrap(),
                RateDecision::Allowed { remaining }
            );
        }
        match s.hit("ip:1", 3, MINUTE).await.unwrap() {
            RateDecision::Limited { retry_after } => {
                assert!(
                    retry_after > Duration::from_secs(50) && retry_after <= MINUTE,
                    "{retry_after:?}"
                )
            }
            other => panic!("{}: expected a limit, got {other:?}", s.kind()),
        }
        assert!(matches!(
            s.hit("ip:2", 3, MINUTE).await.unwrap(),
            RateDecision::Allowed { remaining: 2 }
        ));
        // A short window ends and the bucket starts again.
        for _ in 0..2 {
            s.hit("short", 1, Duration::from_millis(50)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(
            s.hit("short", 1, Duration::from_millis(50)).await.unwrap(),
            RateDecision::Allowed { remaining: 0 }
        );
    }
}

#[tokio::test]
async fn joined_hits_count_every_bucket_and_the_tightest_limit_decides() {
    for s in states() {
        let buckets = [("join:ip", 5), ("join:acct", 2)];
        for remaining in (0..2).rev() {
            assert_eq!(
                s.hit_all(&buckets, MINUTE).await.unwrap(),
                RateDecision::Allowed { remaining },
                "{}",
                s.kind()
            );
        }
        assert!(matches!(
            s.hit_all(&buckets, MINUTE).await.unwrap(),
            RateDecision::Limited { retry_after } if retry_after > Duration::from_secs(50)
        ));
        // Every bucket was counted each time: 3 hits on the per-IP one, 2 left of 5.
        assert_eq!(
            s.hit_all(&[("join:ip", 5)], MINUTE).await.unwrap(),
            RateDecision::Allowed { remaining: 1 },
            "{}",
            s.kind()
        );
    }
}

#[tokio::test]
async fn concurrent_hits_are_all_counted() {
    for s in states() {
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let s = Arc::clone(&s);
                tokio::spawn(async move { s.hit("burst", 10, MINUTE).await.unwrap() })
            })
            .collect();
        let mut allowed = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), RateDecision::Allowed { .. }) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 10, "{}", s.kind());
    }
}

#[tokio::test]
async fn cached_values_expire() {
    for s in states() {
        assert_eq!(s.cache_get("status").await.unwrap(), None);
        s.cache_set("status", b"\x00\x01", Duration::from_millis(80))
            .await
            .unwrap();
        assert_eq!(
            s.cache_get("status").await.unwrap().as_deref(),
            Some(&b"\x00\x01"[..])
        );
        tokio::time::sleep(Duration::from_millis(160)).await;
        assert_eq!(s.cache_get("status").await.unwrap(), None, "{}", s.kind());
    }
}

#[tokio::test]
async fn the_memory_store_stays_bounded() {
    let s = MemoryState::new(3);
    for i in 0..10 {
        s.cache_set(&format!("k{i}"), b"v", Duration::from_secs(60 + i))
            .await
            .unwrap();
    }
    assert_eq!(s.entries(), 3);
    assert!(
        s.cache_get("k9").await.unwrap().is_some(),
        "the newest survive"
    );
}

#[tokio::test]
async fn a_redis_that_is_down_reports_unavailable() {
    // Nothing listens on port 1: ping and operations fail fast with `Unavailable`.
    let s = RedisState::connect("redis://127.0.0.1:1", "epermit:test:").unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(
        s.ping().await,
        Err(SharedStateError::Unavailable(_))
    ));
    assert!(matches!(
        s.hit("x", 1, MINUTE).await,
        Err(SharedStateError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn throttle_delays_double_from_the_first_paid_failure_up_to_the_cap() {
    let policy = ThrottlePolicy {
        free: 3,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(5),
        memory: MINUTE,
    };
    let delays: Vec<u64> = (1..=7).map(|n| policy.delay_after(n).as_secs()).collect();
    assert_eq!(delays, [0, 0, 1, 2, 4, 5, 5]);
    assert_eq!(policy.delay_after(u32::MAX), Duration::from_secs(5));
}

#[tokio::test]
async fn password_failures_throttle_one_pair_and_not_another() {
    let policy = ThrottlePolicy {
        free: 2,
        base: Duration::from_millis(300),
        cap: Duration::from_secs(10),
        memory: MINUTE,
    };
    for s in states() {
        assert_eq!(s.throttle_wait("alice:1.2.3.4").await.unwrap(), None);
        assert_eq!(
            s.throttle_fail("alice:1.2.3.4", &policy).await.unwrap(),
            Duration::ZERO
        );
        assert_eq!(s.throttle_wait("alice:1.2.3.4").await.unwrap(), None);
        let delay = s.throttle_fail("alice:1.2.3.4", &policy).await.unwrap();
        assert_eq!(delay, Duration::from_millis(300), "{}", s.kind());
        let wait = s.throttle_wait("alice:1.2.3.4").await.unwrap().unwrap();
        assert!(wait <= delay && wait > Duration::ZERO, "{wait:?}");
        assert_eq!(
            s.throttle_fail("alice:1.2.3.4", &policy).await.unwrap(),
            Duration::from_millis(600)
        );
        assert_eq!(s.throttle_wait("alice:5.6.7.8").await.unwrap(), None);
        s.throttle_clear("alice:1.2.3.4").await.unwrap();
        assert_eq!(s.throttle_wait("alice:1.2.3.4").await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_mirrored_epoch_only_rises() {
    for s in states() {
        assert_eq!(s.epoch_get("staff:1").await.unwrap(), None);
        assert_eq!(s.epoch_raise("staff:1", 2, MINUTE).await.unwrap(), 2);
        assert_eq!(
            s.epoch_raise("staff:1", 1, MINUTE).await.unwrap(),
            2,
            "a stale read does not lower it ({})",
            s.kind()
        );
        assert_eq!(s.epoch_get("staff:1").await.unwrap(), Some(2));
        assert_eq!(s.epoch_raise("staff:1", 3, MINUTE).await.unwrap(), 3);
        s.epoch_raise("staff:2", 1, Duration::from_millis(50))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(s.epoch_get("staff:2").await.unwrap(), None, "it expires");
    }
}

const BUDGET: GuessBudget = GuessBudget {
    per_window: 3,
    window: MINUTE,
    per_day: 5,
};

#[tokio::test]
async fn a_resend_does_not_reset_the_phones_guess_budget() {
    for s in states() {
        s.put_otp("g1", "first", MINUTE, 3).await.unwrap();
        assert_eq!(
            s.check_code("g1", "x", &BUDGET).await.unwrap(),
            OtpCheck::Wrong { attempts_left: 2 },
            "{}",
            s.kind()
        );
        assert_eq!(
            s.check_code("g1", "y", &BUDGET).await.unwrap(),
            OtpCheck::Wrong { attempts_left: 1 }
        );
        // A new code: the phone has one guess left in this window, not three.
        s.put_otp("g1", "second", MINUTE, 3).await.unwrap();
        assert!(
            matches!(
                s.check_code("g1", "z", &BUDGET).await.unwrap(),
                OtpCheck::TooManyAttempts { retry_after } if retry_after > Duration::from_secs(50)
            ),
            "{}",
            s.kind()
        );
        // The budget is spent: even the right code of a fresh send is refused until the window ends.
        s.put_otp("g1", "third", MINUTE, 3).await.unwrap();
        match s.check_code("g1", "third", &BUDGET).await.unwrap() {
            OtpCheck::TooManyAttempts { retry_after } => assert!(
                retry_after > Duration::from_secs(50) && retry_after <= MINUTE,
                "{}: {retry_after:?}",
                s.kind()
            ),
            other => panic!("{}: {other:?}", s.kind()),
        }
        assert_eq!(
            s.check_otp("g1", "third").await.unwrap(),
            OtpCheck::Absent,
            "the refused code is void"
        );
    }
}

#[tokio::test]
async fn the_daily_guess_budget_holds_across_windows() {
    let budget = GuessBudget {
        per_window: 2,
        window: Duration::from_millis(100),
        per_day: 3,
    };
    for s in states() {
        s.put_otp("g2", "right", MINUTE, 10).await.unwrap();
        assert_eq!(
            s.check_code("g2", "a", &budget).await.unwrap(),
            OtpCheck::Wrong { attempts_left: 1 }
        );
        assert!(matches!(
            s.check_code("g2", "b", &budget).await.unwrap(),
            OtpCheck::TooManyAttempts { .. }
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        // A new window, but one guess left today.
        s.put_otp("g2", "right", MINUTE, 10).await.unwrap();
        assert!(
            matches!(
                s.check_code("g2", "c", &budget).await.unwrap(),
                OtpCheck::TooManyAttempts { retry_after } if retry_after > Duration::from_secs(23 * 3600)
            ),
            "{}",
            s.kind()
        );
        s.put_otp("g2", "right", MINUTE, 10).await.unwrap();
        assert!(
            matches!(
                s.check_code("g2", "right", &budget).await.unwrap(),
                OtpCheck::TooManyAttempts { .. }
            ),
            "{}",
            s.kind()
        );
    }
}

#[tokio::test]
async fn a_right_code_within_the_budget_is_accepted_and_absent_codes_cost_nothing() {
    for s in states() {
        assert_eq!(
            s.check_code("g3", "a", &BUDGET).await.unwrap(),
            OtpCheck::Absent
        );
        s.put_otp("g3", "right", MINUTE, 3).await.unwrap();
        assert_eq!(
            s.check_code("g3", "wrong", &BUDGET).await.unwrap(),
            OtpCheck::Wrong { attempts_left: 2 }
        );
        assert_eq!(
            s.check_code("g3", "right", &BUDGET).await.unwrap(),
            OtpCheck::Ok,
            "{}",
            s.kind()
        );
        s.put_otp("g3", "gone", MINUTE, 3).await.unwrap();
        s.delete_otp("g3").await.unwrap();
        assert_eq!(
            s.check_code("g3", "gone", &BUDGET).await.unwrap(),
            OtpCheck::Absent,
            "{}",
            s.kind()
        );
    }
}

#[tokio::test]
async fn concurrent_guesses_never_exceed_the_budget() {
    for s in states() {
        s.put_otp("g4", "right", MINUTE, 100).await.unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let s = Arc::clone(&s);
                tokio::spawn(async move {
                    s.check_code("g4", &format!("wrong{i}"), &BUDGET)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut wrong = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), OtpCheck::Wrong { .. }) {
                wrong += 1;
            }
        }
        // Three guesses counted: two answered `Wrong`, the third spent the budget.
        assert_eq!(wrong, 2, "{}", s.kind());
    }
}

#[tokio::test]
async fn an_unhit_takes_back_one_hit_and_keeps_the_window() {
    for s in states() {
        assert!(matches!(
            s.hit("u:1", 1, MINUTE).await.unwrap(),
            RateDecision::Allowed { .. }
        ));
        s.unhit("u:1").await.unwrap();
        assert!(
            matches!(
                s.hit("u:1", 1, MINUTE).await.unwrap(),
                RateDecision::Allowed { .. }
            ),
            "{}",
            s.kind()
        );
        assert!(matches!(
            s.hit("u:1", 1, MINUTE).await.unwrap(),
            RateDecision::Limited { .. }
        ));
        s.unhit("never").await.unwrap();
        assert!(matches!(
            s.hit("never", 1, MINUTE).await.unwrap(),
            RateDecision::Allowed { remaining: 0 }
        ));
    }
}

#[tokio::test]
async fn leased_hits_count_down_exactly_like_single_hits() {
    for s in states() {
        for n in 1..=150u32 {
            let expected = if n <= 100 {
                RateDecision::Allowed { remaining: 100 - n }
            } else {
                RateDecision::Limited {
                    retry_after: Duration::ZERO,
                }
            };
            let got = s.hit("leased:exact", 100, MINUTE).await.unwrap();
            match (got, expected) {
                (RateDecision::Limited { retry_after }, RateDecision::Limited { .. }) => {
                    assert!(retry_after > Duration::from_secs(50), "{}", s.kind());
                }
                (got, expected) => assert_eq!(got, expected, "hit {n} on {}", s.kind()),
            }
        }
    }
}

/// Two Redis stores under one prefix (two instances sharing Redis), the URL to read the counters.
fn redis_pair() -> Option<(RedisState, RedisState, String, String)> {
    let url = std::env::var("EPERMIT_TEST_REDIS_URL").ok()?;
    let prefix = format!("epermit:test:{}:", uuid::Uuid::new_v4().simple());
    Some((
        RedisState::connect(&url, &prefix).unwrap(),
        RedisState::connect(&url, &prefix).unwrap(),
        url,
        prefix,
    ))
}

/// The hits Redis counts in `bucket` (leased ones included).
async fn counted(url: &str, prefix: &str, bucket: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::AsyncCommands::get::<_, Option<i64>>(&mut conn, format!("{prefix}rl:{bucket}"))
        .await
        .unwrap()
        .unwrap_or(0)
}

fn allowed(decisions: &[RateDecision]) -> usize {
    decisions
        .iter()
        .filter(|d| matches!(d, RateDecision::Allowed { .. }))
        .count()
}

#[tokio::test]
async fn a_busy_bucket_asks_redis_once_a_lease_ahead_of_need() {
    let Some((a, _, url, prefix)) = redis_pair() else {
        return;
    };
    let limit = 1_000_000;
    let hit = || a.hit("busy", limit, MINUTE);
    let counted = || counted(&url, &prefix, "busy");
    hit().await.unwrap();
    assert_eq!(counted().await, 1, "the window's first hit");
    hit().await.unwrap();
    assert_eq!(
        counted().await,
        1 + i64::from(MAX_LEASE),
        "then a full lease"
    );
    // The request that took it spent one: the lease holds the rest.
    let mut held = MAX_LEASE - 1;
    let mut count = counted().await;
    for lease in 1..=3 {
        for _ in 0..held - refill_at(held) - 1 {
            hit().await.unwrap();
        }
        assert_eq!(
            counted().await,
            count,
            "lease {lease} was spent without Redis"
        );
        hit().await.unwrap();
        let next = counted().await - count;
        // Spent within LEASE_SPAN the next lease is twice what was held, else lease_size.
        let left = limit - u32::try_from(count).unwrap();
        let sizes = [LEASE_SPAN / 2, LEASE_SPAN * 2].map(|lasted| next_lease(left, held, lasted));
        assert!(
            sizes.contains(&u32::try_from(next).unwrap()),
            "the hit that spent lease {lease} down to a quarter took the next ({next}, {sizes:?})"
        );
        held = refill_at(held) + u32::try_from(next).unwrap();
        count += next;
    }
    // A hit taken back goes into the lease, not to Redis.
    a.unhit("busy").await.unwrap();
    assert_eq!(counted().await, count);
}

#[tokio::test]
async fn two_instances_with_leases_allow_the_limit_in_total_not_more() {
    let Some((a, b, _, _)) = redis_pair() else {
        return;
    };
    // Taking turns: every leased hit is spent, so exactly the limit is allowed.
    let mut decisions = Vec::new();
    for i in 0..1500 {
        let s = if i % 2 == 0 { &a } else { &b };
        decisions.push(s.hit("turns", 1000, MINUTE).await.unwrap());
    }
    assert_eq!(allowed(&decisions), 1000);
    // All at once, on both: never more than the limit.
    let tasks: Vec<_> = (0..1500)
        .map(|i| {
            let s = if i % 3 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { s.hit("burst:leased", 1000, MINUTE).await.unwrap() })
        })
        .collect();
    let mut decisions = Vec::new();
    for t in tasks {
        decisions.push(t.await.unwrap());
    }
    let n = allowed(&decisions);
    assert!(n <= 1000, "{n} allowed of a limit of 1000");
    assert!(n >= 1000 - 2 * MAX_LEASE as usize, "{n} allowed");
}

#[tokio::test]
async fn an_instance_that_goes_quiet_keeps_back_at_most_its_lease() {
    let Some((a, b, _, _)) = redis_pair() else {
        return;
    };
    a.hit("quiet", 1000, MINUTE).await.unwrap();
    a.hit("quiet", 1000, MINUTE).await.unwrap();
    let mut decisions = Vec::new();
    for _ in 0..1200 {
        decisions.push(b.hit("quiet", 1000, MINUTE).await.unwrap());
    }
    // A spent 2 and holds the rest of its second lease; B gets all the others.
    assert_eq!(allowed(&decisions), 1000 - 1 - lease_size(999) as usize);
}
