//! The command line of `epermit` (clap): one subcommand per operator or support task.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// epermit — the Jinhua electronic residence permit service and its tools.
#[derive(Debug, Parser)]
#[command(name = "epermit", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
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
