//! `epermit`: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use api::cli::{Cli, Command, PolicyCommand};
use api::commands;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Policy(PolicyCommand::Report { case }) => commands::policy_report::run(&case),
        Command::Demo { out } => commands::demo::run(&out),
        Command::Verify(args) => commands::verify::run(&args),
    };
    outcome.finish()
}
