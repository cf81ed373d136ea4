//! The command line of `epermit` (clap): one subcommand per operator or support task.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// epermit — the Jinhua electronic residence permit service and its tools.
#[derive(Debug, Parser)]
#[command(name = "epermit", version, about, long_about = None)]
pub struct Cli {
    /// A TOML settings file (else `EPERMIT_CONFIG`; environment variables override it).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// What to do; without a subcommand, `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default): SQLite under ./data and an in-process store unless
    /// DATABASE_URL / REDIS_URL say otherwise; keys are generated on first start.
    Serve,
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Print an access token for a resident (support and tests).
    Token {
        /// The resident's phone number.
        #[arg(long)]
        resident: String,
    },
    /// The residence rules (SPEC §3).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Write a demo bundle made with fresh keys: trust list, status list, a holder-bound permit,
    /// a presentation, their QR images and the holder key.
    Demo {
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify an `EP1:` or `EPP1:` text offline, exactly as the mobile SDK does.
    Verify(VerifyArgs),
    /// Load data from the legacy system.
    #[command(subcommand)]
    Import(ImportCommand),
}

/// `epermit import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load confirmed historical registrations from a CSV file (columns id_number, name,
    /// district, address, start, end); idempotent; prints a JSON report, exit 3 if unreadable.
    Residences {
        /// The CSV file.
        file: PathBuf,
    },
}

/// `epermit policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the conversion report (SPEC §3 JSON) of a request file or a worked case
    /// (`{"input": …, "expected": …}`). Bad input: `{"error": code}` and exit code 3.
    Report {
        /// The JSON file.
        case: PathBuf,
    },
}

/// `epermit verify …`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The pinned root public key: a file holding 64 hex characters.
    #[arg(long)]
    pub root: PathBuf,
    /// The signed trust list (`trust-list.cose`).
    #[arg(long)]
    pub trust_list: PathBuf,
    /// The signed status list (`status-list.cwt`); without it the verdict carries `status_unknown`.
    #[arg(long)]
    pub status_list: Option<PathBuf>,
    /// The time to verify at (RFC 3339), instead of the clock.
    #[arg(long)]
    pub now: Option<String>,
    /// How old a presentation may be, in seconds (SPEC §2: 120).
    #[arg(long, default_value_t = 120)]
    pub max_presentation_age: u32,
    /// The QR text itself, or `@FILE` to read it from a file.
    pub text: String,
}

/// `epermit keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new issuing key for a district and retire its current one (which stays in the
    /// trust list as retired, so old permits still verify).
    Rotate {
        /// The district code, e.g. 330782.
        #[arg(long)]
        district: String,
    },
}

/// `epermit audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 1 naming the first broken link.
    Verify,
}

/// `epermit staff …`
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create an account; the password is read from the first line of standard input.
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// officer, verifier or admin.
        #[arg(long)]
        role: String,
        /// An officer's district code.
        #[arg(long)]
        district: Option<String>,
        /// A verifier's organisation: school, hospital or police.
        #[arg(long)]
        org_kind: Option<String>,
    },
}
