//! Reading the outputs of the load tools that `scripts/bench.sh` (issue 14, item 6) sets side by
//! side: `oha --output-format json` (the open-loop run at a fixed rate) and `pgbench` (the
//! baseline of issuance).

use serde_json::Value;

use crate::wrk::Run;

/// The throughput and p99 of an `oha --output-format json` run; an error when any request
/// failed, was aborted or answered other than 2xx (the numbers would then measure errors), or
/// a number is missing.
pub fn parse_oha(text: &str) -> Result<Run, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("oha's output is not JSON: {e}"))?;
    let errors = doc["errorDistribution"]
        .as_object()
        .ok_or("no errorDistribution in oha's output")?;
    if !errors.is_empty() {
        return Err(format!(
            "the run had failed requests ({}), so its numbers mean nothing",
            Value::Object(errors.clone())
        ));
    }
    let codes = doc["statusCodeDistribution"]
        .as_object()
        .ok_or("no statusCodeDistribution in oha's output")?;
    if codes.is_empty() {
        return Err("the run completed no request".to_owned());
    }
    if let Some(code) = codes.keys().find(|c| !c.starts_with('2')) {
        return Err(format!(
            "the run had {code} answers, so its numbers mean nothing"
        ));
    }
    let number = |v: &Value, what: &str| {
        v.as_f64()
            .filter(|n| n.is_finite())
            .ok_or_else(|| format!("no {what} in oha's output"))
    };
    let requests_per_sec = number(&doc["summary"]["requestsPerSec"], "summary.requestsPerSec")?;
    // `latencyPercentiles` is in seconds.
    let p99_ms = number(&doc["latencyPercentiles"]["p99"], "latencyPercentiles.p99")? * 1000.0;
    Ok(Run {
        requests_per_sec,
        p99_ms,
    })
}

/// How long a `pgbench` run lasts.
#[derive(Clone, Copy, Debug)]
pub enum Length {
    /// For this many seconds (`-T`).
    Seconds(u64),
    /// This many transactions per client (`-t`).
    Transactions(u64),
}

/// Runs `pgbench -n` with `clients` clients (on at most 2 threads) for `length` against the
/// database at `url`, with `args` besides (`-N`, or a script and its variables): its TPS, or why
/// it failed.
pub fn pgbench(url: &str, clients: u64, length: Length, args: &[String]) -> Result<f64, String> {
    let output = std::process::Command::new("pgbench")
        .arg("-n")
        .arg(format!("-c{clients}"))
        .arg(format!("-j{}", clients.min(2)))
        .arg(match length {
            Length::Seconds(s) => format!("-T{s}"),
            Length::Transactions(t) => format!("-t{t}"),
        })
        .args(args)
        .arg(url)
        .output()
        .map_err(|e| {
            format!(
                "cannot run pgbench ({e}): install it with `apt-get install -y postgresql-contrib`"
            )
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "pgbench {} failed: {text}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse_pgbench(&text).map_err(|e| format!("{e}:\n{text}"))
}

/// The TPS of a `pgbench` run, "without initial connection time" (the figure pgbench prints
/// last); an error when a transaction failed or the line is missing.
pub fn parse_pgbench(text: &str) -> Result<f64, String> {
    let failed = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("number of failed transactions:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    if failed > 0 {
        return Err(format!("pgbench had {failed} failed transactions"));
    }
    text.lines()
        .map(str::trim)
        .find_map(|l| {
            let rest = l.strip_prefix("tps = ")?;
            rest.contains("without initial connection time")
                .then(|| rest.split_whitespace().next())
                .flatten()
        })
        .ok_or_else(|| {
            "no `tps = … (without initial connection time)` in pgbench's output".to_owned()
        })?
        .parse()
        .map_err(|_| "unreadable tps in pgbench's output".to_owned())
}

#[cfg(test)]
mod tests {
    use super::{parse_oha, parse_pgbench};
    use crate::wrk::Run;

    // Trimmed from a real `oha 1.16 --output-format json` run (fields unused here left out).
    const OHA: &str = r#"{
      "summary": {"successRate": 1.0, "total": 10.001, "slowest": 0.0123, "fastest": 0.0004,
                  "average": 0.0011, "requestsPerSec": 2000.4, "totalData": 1000,
                  "sizePerRequest": 50, "sizePerSec": 100.0},
      "latencyPercentiles": {"p10": 0.0006, "p50": 0.0009, "p99": 0.00321, "p99.9": 0.009},
      "statusCodeDistribution": {"200": 20004},
      "errorDistribution": {}
    }"#;

    #[test]
    fn an_oha_run_is_read_in_milliseconds() {
        let run = parse_oha(OHA).unwrap();
        assert_eq!(run.requests_per_sec, 2000.4);
        assert!((run.p99_ms - 3.21).abs() < 1e-9, "{run:?}");
    }

    #[test]
    fn an_oha_run_with_errors_or_refusals_is_refused() {
        let aborted = OHA.replace(
            r#""errorDistribution": {}"#,
            r#""errorDistribution": {"aborted due to deadline": 3}"#,
        );
        assert!(parse_oha(&aborted).unwrap_err().contains("aborted"));
        let limited = OHA.replace(r#"{"200": 20004}"#, r#"{"200": 20000, "429": 4}"#);
        assert!(parse_oha(&limited).unwrap_err().contains("429"));
        let none = OHA.replace(r#"{"200": 20004}"#, "{}");
        assert!(parse_oha(&none).is_err());
        assert!(parse_oha("Summary: 200 OK").is_err());
        let no_p99 = OHA.replace(r#""p99": 0.00321,"#, "");
        assert!(parse_oha(&no_p99).is_err());
        assert_ne!(
            parse_oha(OHA),
            Ok(Run {
                requests_per_sec: 0.0,
                p99_ms: 0.0
            })
        );
    }

    // A real `pgbench 15 -N` report.
    const PGBENCH: &str = "pgbench (15.10 (Debian 15.10-0+deb12u1))
transaction type: <builtin: simple update>
scaling factor: 8
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 1234
number of failed transactions: 0 (0.000%)
latency average = 64.9 ms
initial connection time = 12.3 ms
tps = 123.212345 (without initial connection time)
";

    #[test]
    fn pgbench_tps_is_read() {
        assert_eq!(parse_pgbench(PGBENCH), Ok(123.212345));
        let failed = PGBENCH.replace(
            "failed transactions: 0 (0.000%)",
            "failed transactions: 2 (0.160%)",
        );
        assert!(parse_pgbench(&failed).is_err());
        let old = PGBENCH.replace(
            "(without initial connection time)",
            "(including connections)",
        );
        assert!(parse_pgbench(&old).is_err());
        assert!(parse_pgbench("").is_err());
    }
}
