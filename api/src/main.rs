//! `epermit`: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use api::cli::{Cli, Command, PolicyCommand, StaffCommand};
use api::commands;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.config.as_deref();
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => commands::serve::run(config),
        Command::Policy(PolicyCommand::Report { case }) => commands::policy_report::run(&case),
        Command::Demo { out } => commands::demo::run(&out),
        Command::Verify(args) => commands::verify::run(&args),
        Command::Bundle { out } => commands::bundle::run(config, &out),
        Command::Keys(command) => commands::keys::run(config, command),
        Command::Audit(command) => commands::audit::run(config, command),
        Command::Import(api::cli::ImportCommand::Residences { file }) => {
            commands::import::residences(config, &file)
        }
        Command::Seed(args) => commands::seed::run(
            config,
            commands::seed::Plan {
                residents: args.residents,
                append: args.append,
            },
        ),
        Command::Token(who) => {
            // The group makes one of the two present; an empty phone would be refused anyway.
            let phone = who
                .resident
                .or_else(|| who.seeded.map(commands::seed::phone));
            commands::operator::resident_token(config, &phone.unwrap_or_default())
        }
        Command::Staff(StaffCommand::Add {
            username,
            role,
            district,
            org_kind,
        }) => commands::staff::run(
            config,
            &username,
            &role,
            district.as_deref(),
            org_kind.as_deref(),
        ),
        Command::Staff(lifecycle) => commands::staff::lifecycle(config, lifecycle),
    };
    outcome.finish()
}
