//! Reading `wrk --latency` output, for the load benchmark (`benches/verify_load.rs`).

/// One `wrk` run's numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// Completed requests per second.
    pub requests_per_sec: f64,
    /// The 99th-percentile latency, in milliseconds.
    pub p99_ms: f64,
}

/// Parses a wrk latency such as `812.00us`, `1.53ms` or `2.01s` into milliseconds.
pub fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(number / 1000.0),
        "ms" => Some(number),
        "s" => Some(number * 1000.0),
        "m" => Some(number * 60_000.0),
        _ => None,
    }
}

/// The throughput and p99 of a run; an error when a request failed (the numbers would then
/// measure errors) or a number is missing.
pub fn parse(text: &str) -> Result<Run, String> {
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err("the run had failed requests, so its numbers mean nothing".to_owned());
    }
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .ok_or_else(|| format!("no `{prefix}` in wrk's output"))
    };
    let requests_per_sec = field("Requests/sec:")?
        .parse()
        .map_err(|_| "unreadable Requests/sec".to_owned())?;
    let p99 = field("99%")?;
    let p99_ms = millis(p99).ok_or_else(|| format!("unreadable p99 `{p99}`"))?;
    Ok(Run {
        requests_per_sec,
        p99_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::{Run, millis, parse};

    const OUTPUT: &str = "Running 15s test @ http://127.0.0.1:8080/verify
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.78ms  612.31us  12.07ms   84.40%
    Req/Sec     8.98k   301.22     9.41k    88.67%
  Latency Distribution
     50%    1.66ms
     75%    1.92ms
     90%    2.32ms
     99%    3.78ms
  134622 requests in 15.00s, 114.00MB read
Requests/sec:   8973.18
Transfer/sec:      7.60MB
";

    #[test]
    fn wrk_latencies_are_read_in_milliseconds() {
        let close = |text: &str, want: f64| {
            let got = millis(text).unwrap();
            assert!((got - want).abs() < 1e-9, "{text} → {got}, want {want}");
        };
        close("812.00us", 0.812);
        close("1.53ms", 1.53);
        close("2.01s", 2010.0);
        assert_eq!(millis("fast"), None);
    }

    #[test]
    fn a_run_is_read_from_wrk_output() {
        assert_eq!(
            parse(OUTPUT),
            Ok(Run {
                requests_per_sec: 8973.18,
                p99_ms: 3.78
            })
        );
    }

    #[test]
    fn a_run_with_failed_requests_is_refused() {
        let failed = OUTPUT.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 12\nRequests/sec",
        );
        assert!(parse(&failed).is_err());
        assert!(parse("nothing").is_err());
    }
}
