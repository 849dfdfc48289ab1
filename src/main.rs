use clap::{Parser, Subcommand};
use promptgate::cli::scan::{self, FailOn, Format};
use promptgate::{Engine, Policy};
use std::path::PathBuf;
use std::process::ExitCode;

/// promptgate: keeps secrets, personal data and internal names out of AI prompts.
#[derive(Parser)]
#[command(name = "promptgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files, directories or stdin for sensitive content.
    Scan {
        /// Policy file (keys it leaves out come from the embedded default).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Exit 1 when any input reaches this box.
        #[arg(long = "fail-on", value_enum, default_value = "never")]
        fail_on: FailOn,
        /// Files or directories; none or `-` reads stdin.
        paths: Vec<PathBuf>,
    },
}

fn load_policy(path: Option<&PathBuf>) -> Result<Policy, String> {
    match path {
        Some(p) => Policy::load(p).map_err(|e| e.to_string()),
        None => Ok(Policy::embedded_default()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan {
            policy,
            format,
            fail_on,
            paths,
        } => {
            let policy = match load_policy(policy.as_ref()) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("promptgate: error: {e}");
                    return ExitCode::from(2);
                }
            };
            let engine = match Engine::new(policy) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("promptgate: error: {e}");
                    return ExitCode::from(2);
                }
            };
            ExitCode::from(scan::run(&engine, &paths, format, fail_on) as u8)
        }
    }
}
