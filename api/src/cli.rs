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
    Token(TokenArgs),
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
    /// Write the signed verifier bundle (the trust list and every status list, as
    /// `GET /v1/verifier-bundle` serves it) to a file, for a desk or phone without network.
    Bundle {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Load data from the legacy system.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Load a city's worth of synthetic residents, registrations, applications and permits
    /// (issue 14 item 5), sealed and signed as the service does; refused on a database with
    /// residents unless `--append`, and in production mode.
    Seed(SeedArgs),
}

/// `epermit seed …`
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// How many residents (1 to 10 000 000).
    #[arg(long, default_value_t = 10_000)]
    pub residents: u64,
    /// Add to a database that has residents already (else refused).
    #[arg(long)]
    pub append: bool,
}

/// `epermit token …`: whom the token is for, named by exactly one of the two (clap refuses
/// neither and both).
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct TokenArgs {
    /// The resident's phone number.
    #[arg(long)]
    pub resident: Option<String>,
    /// Or the resident with this id made by `epermit seed`, by the seed's phone rule
    /// (`commands::seed::phone`): a script gets a seeded resident's token without handling
    /// a phone number.
    #[arg(long)]
    pub seeded: Option<i64>,
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
    /// A signed status list (`status-list.cwt`), repeated for each shard held; without the one
    /// the credential names, the verdict carries `status_unknown`.
    #[arg(long)]
    pub status_list: Vec<PathBuf>,
    /// The time to verify at (RFC 3339), instead of the clock.
    #[arg(long)]
    pub now: Option<String>,
    /// How old a presentation may be, in seconds (SPEC §2: 120).
    #[arg(long, default_value_t = 120)]
    pub max_presentation_age: u32,
    /// The QR text itself, or `@FILE` to read it from a file.
    pub text: String,
}

/// `epermit keys …` (SPEC §4 "Keys"). Each command opens the key files and stops, naming the
/// file and the fix, when one the database knows is missing or holds another key.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Every key (kid, root/jwt/district, state, validity) and the root public key in the
    /// 64-hex form apps pin; on an empty database the keys are generated first.
    List,
    /// Add a new issuing key for a district and retire its current one (which stays in the
    /// trust list as retired, so old permits still verify).
    Rotate {
        /// The district code, e.g. 330782.
        #[arg(long)]
        district: String,
    },
    /// Mark a district key compromised: the trust list says so at once (its permits then verify
    /// `issuer_key_compromised`); an active key is replaced by a fresh one.
    Compromise {
        /// The key id (16 hex digits, as `keys list` shows it).
        #[arg(long)]
        kid: String,
    },
    /// Start a root-key rotation: a successor root key is generated and announced in the trust
    /// list, still signed by the current root, for at least `--announce-days`; then finish it
    /// with `--finish`, after which the successor signs the lists.
    RotateRoot {
        /// Finish the rotation under way (refused before its announcement has run).
        #[arg(long)]
        finish: bool,
        /// How long the successor is announced before the rotation may be finished: at least
        /// the longest time a verifier may stay offline.
        #[arg(long, default_value_t = 30, conflicts_with = "finish")]
        announce_days: u32,
    },
}

/// `epermit audit …` (issue 12 item 7).
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain against the signed checkpoints (from the database and, with
    /// `--checkpoints`, from the exported file): names truncation, rewriting and reordering and
    /// how many entries are not yet anchored; exit 0 only when intact, 1 when not.
    Verify {
        /// The exported checkpoint file (`audit.checkpoint_export`), to check against even the
        /// checkpoints deleted from the database.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Sign the chain head now (a checkpoint) and export the pending checkpoints.
    Checkpoint,
    /// Print entries as JSON lines (seq, time, actor, action, subject, detail, prev_hash, hash)
    /// for an inspector.
    Export {
        /// The first entry: a sequence number, a day (`2026-12-01`) or an RFC 3339 time.
        #[arg(long)]
        from: Option<String>,
        /// The last entry: a sequence number, a day (inclusive) or an RFC 3339 time.
        #[arg(long)]
        to: Option<String>,
    },
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
    /// Every account as JSON (never a password hash).
    List,
    /// Disable an account: no more logins or refreshes; its sessions and access tokens are
    /// revoked (on running instances within `tokens.revocation_check_ms` when they share Redis).
    Disable {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled account.
    Enable {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Clear an account's failure count and its login throttles.
    Unlock {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Set a new password, read from the first line of standard input; revokes every session and
    /// access token of the account.
    ResetPassword {
        /// Login name.
        #[arg(long)]
        username: String,
    },
}
