//! The `epermit` subcommands. Each returns an [`Outcome`]: the JSON it prints on stdout and its exit
//! code; messages for people go to stderr.

pub mod audit;
pub mod bundle;
pub mod demo;
pub mod import;
pub mod keys;
pub mod operator;
pub mod policy_report;
pub mod seed;
pub mod serve;
pub mod staff;
pub mod verify;

use std::process::ExitCode;

use serde_json::Value;

/// Exit codes of the CLI.
pub mod exit {
    /// Success (for `verify`: the verdict is `valid`).
    pub const OK: u8 = 0;
    /// `verify`: the credential was checked and is not valid (the verdict says why).
    pub const NOT_VALID: u8 = 1;
    /// Bad input: a file or value that cannot be read as what it should be.
    pub const BAD_INPUT: u8 = 3;
    /// The command could not write its output.
    pub const IO: u8 = 4;
}

/// What a command prints on stdout and the code it exits with.
#[derive(Debug)]
pub struct Outcome {
    /// Printed as pretty JSON on stdout, if any.
    pub json: Option<Value>,
    /// The process exit code.
    pub code: u8,
}

impl Outcome {
    /// Success with a JSON answer.
    pub fn ok(json: Value) -> Self {
        Outcome {
            json: Some(json),
            code: exit::OK,
        }
    }

    /// Bad input, answered with `{"error": code}`.
    pub fn bad_input(json: Value) -> Self {
        Outcome {
            json: Some(json),
            code: exit::BAD_INPUT,
        }
    }

    /// Prints the JSON and turns the code into the process's exit code.
    pub fn finish(self) -> ExitCode {
        if let Some(json) = self.json {
            match serde_json::to_string_pretty(&json) {
                Ok(text) => println!("{text}"),
                Err(e) => eprintln!("epermit: cannot print the answer: {e}"),
            }
        }
        ExitCode::from(self.code)
    }
}
