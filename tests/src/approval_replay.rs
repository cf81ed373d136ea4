//! The approval's own SQL replayed by pgbench without the service (`benches/approval.pgbench`):
//! the ceiling the issuance bench prints beside `pgbench -N` (issue 14, item 6), and the check
//! that the script still runs on the schema as migrated.

use chrono::{Datelike, Duration};

use crate::side_by_side::{self, Length};

/// The script, next to the benches.
pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/approval.pgbench");

/// What a replay approves: the submitted applications `first..=last` (drawn at random), as the
/// staff member `officer` (an id).
#[derive(Clone, Copy, Debug)]
pub struct Approvals {
    /// The lowest application id.
    pub first: i64,
    /// The highest.
    pub last: i64,
    /// The approving officer's staff id.
    pub officer: i64,
}

/// Replays `approvals` (each transaction rolled back) on the service's database at `url` with
/// `clients` clients, `-M prepared` as sqlx sends statements: its TPS, or why pgbench failed.
pub fn replay(
    url: &str,
    clients: u64,
    length: Length,
    approvals: Approvals,
) -> Result<f64, String> {
    let Approvals {
        first,
        last,
        officer,
    } = approvals;
    let today = policy::calendar::today();
    // As long as a credential's text and an audit hash (`hmac:<kid>:<64 hex>`) are.
    let credential = format!("EP1:{}", "0".repeat(420));
    let hash = format!("hmac:{}:{}", "0".repeat(16), "0".repeat(64));
    let variables = [
        format!("first={first}"),
        format!("last={last}"),
        format!("officer={officer}"),
        format!("year={}", today.year()),
        format!("issued_on={today}"),
        format!("valid_until={}", today + Duration::days(365)),
        format!("credential={credential}"),
        format!("hash={hash}"),
    ];
    let mut args = vec![
        "-M".to_owned(),
        "prepared".to_owned(),
        "-f".to_owned(),
        SCRIPT.to_owned(),
    ];
    for variable in variables {
        args.extend(["-D".to_owned(), variable]);
    }
    side_by_side::pgbench(url, clients, length, &args)
}
