use clap::{Parser, Subcommand};
use promptgate::cli::scan::{self, FailOn, Format};
use promptgate::proxy::{ConnectTo, ParentProxy};
use promptgate::report;
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
    /// Run the screening proxy (HTTP/1.1 forward proxy with CONNECT).
    Run {
        /// Address to listen on.
        #[arg(long, default_value = promptgate::proxy::DEFAULT_LISTEN)]
        listen: String,
        /// Policy file (keys it leaves out come from the embedded default).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Directory of the local CA (created on first start).
        #[arg(long = "ca-dir", default_value = promptgate::ca::DEFAULT_DIR)]
        ca_dir: PathBuf,
        /// Append one JSON line per intercepted request to this file.
        #[arg(long = "audit-log")]
        audit_log: Option<PathBuf>,
        /// Extra root certificates (PEM) trusted for upstream TLS; repeatable.
        #[arg(long = "upstream-ca")]
        upstream_ca: Vec<PathBuf>,
        /// HOST:PORT:TARGET_HOST:TARGET_PORT: connect to TARGET for HOST:PORT (TLS still checks
        /// HOST); repeatable.
        #[arg(long = "connect-to")]
        connect_to: Vec<ConnectTo>,
        /// A parent HTTP proxy for all upstream connections (http://[user:pass@]host:port).
        #[arg(long = "upstream-proxy")]
        upstream_proxy: Option<ParentProxy>,
        /// Serve /metrics (Prometheus) and /healthz on this loopback address (PORT or
        /// 127.0.0.1:PORT). Off by default.
        #[arg(long)]
        admin: Option<String>,
        /// The user label in audit events when a client does not name one in Proxy-Authorization
        /// (default: $USER, else $USERNAME, else "unknown").
        #[arg(long)]
        user: Option<String>,
    },
    /// Summarise audit logs: interactions, never/caution rates, secret exposures, top rules, per
    /// period and group, optionally against a baseline period.
    Report {
        /// Audit log files (JSON Lines written by `promptgate run --audit-log`).
        #[arg(long = "audit-log", required = true, num_args = 1..)]
        audit_log: Vec<PathBuf>,
        /// First day to include (YYYY-MM-DD, UTC).
        #[arg(long, value_parser = parse_date)]
        since: Option<time::Date>,
        /// Last day to include (YYYY-MM-DD, UTC, inclusive).
        #[arg(long, value_parser = parse_date)]
        until: Option<time::Date>,
        /// Period of each row.
        #[arg(long, value_enum, default_value = "month")]
        by: report::Period,
        /// Split rows by client tool, user or team.
        #[arg(long, value_enum)]
        group: Option<report::GroupBy>,
        /// Last day of the baseline period (YYYY-MM-DD): later periods are compared with it.
        #[arg(long = "baseline-until", value_parser = parse_date)]
        baseline_until: Option<time::Date>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: report::ReportFormat,
        /// Write the report to this file instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Manage the local CA.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Print `export NAME=VALUE` lines that point tools at the proxy and its CA.
    Env {
        /// The proxy's address.
        #[arg(long, default_value = promptgate::proxy::DEFAULT_LISTEN)]
        listen: String,
        /// Directory of the local CA.
        #[arg(long = "ca-dir", default_value = promptgate::ca::DEFAULT_DIR)]
        ca_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Create the CA (name-constrained to the policy's intercept list) if it does not exist.
    Init {
        #[arg(long = "ca-dir", default_value = promptgate::ca::DEFAULT_DIR)]
        ca_dir: PathBuf,
        /// Policy whose intercept list the CA is limited to (default: the embedded policy).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Replace an existing CA (clients must trust the new one).
        #[arg(long)]
        force: bool,
    },
    /// Describe the CA and print its certificate.
    Show {
        #[arg(long = "ca-dir", default_value = promptgate::ca::DEFAULT_DIR)]
        ca_dir: PathBuf,
    },
    /// Print the path of the CA certificate.
    Path {
        #[arg(long = "ca-dir", default_value = promptgate::ca::DEFAULT_DIR)]
        ca_dir: PathBuf,
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
        Command::Run {
            listen,
            policy,
            ca_dir,
            audit_log,
            upstream_ca,
            connect_to,
            upstream_proxy,
            admin,
            user,
        } => {
            init_tracing();
            let policy_path = policy;
            let policy = match load_policy(policy_path.as_ref()) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            let mut config = promptgate::proxy::Config::new(policy, ca_dir);
            config.listen = listen;
            config.audit_log = audit_log;
            config.upstream_ca = upstream_ca;
            config.connect_to = connect_to;
            config.upstream_proxy = upstream_proxy;
            config.policy_path = policy_path;
            config.admin = admin;
            if let Some(u) = user.filter(|u| !u.trim().is_empty()) {
                config.user = u;
            }
            run_proxy(config)
        }
        Command::Report {
            audit_log,
            since,
            until,
            by,
            group,
            baseline_until,
            format,
            output,
        } => {
            let opts = report::Options {
                since,
                until,
                by,
                group,
                baseline_until,
            };
            match report::run(&audit_log, &opts, format, output.as_deref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Command::Ca { command } => ca_command(command),
        Command::Env { listen, ca_dir } => match promptgate::ca::env_exports(&listen, &ca_dir) {
            Ok(lines) => {
                print!("{lines}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e.to_string()),
        },
    }
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    report::parse_date(s).map_err(|e| e.to_string())
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("promptgate: error: {e}");
    ExitCode::from(2)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn run_proxy(config: promptgate::proxy::Config) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("starting the runtime: {e}")),
    };
    rt.block_on(async move {
        let running = match promptgate::proxy::start(config).await {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("waiting for Ctrl-C: {e}");
            running.wait().await;
        } else {
            tracing::info!("shutting down");
            running.stop().await;
        }
        ExitCode::SUCCESS
    })
}

fn ca_command(command: CaCommand) -> ExitCode {
    use promptgate::ca::{self, Ca, CaPaths, Created};
    match command {
        CaCommand::Init {
            ca_dir,
            policy,
            force,
        } => {
            let policy = match load_policy(policy.as_ref()) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            match ca::create(&ca_dir, &policy, force) {
                Ok(Created::New) => {
                    println!(
                        "created {} (permitted: {})",
                        CaPaths::new(&ca_dir).cert.display(),
                        ca::permitted_domains(&policy).join(", ")
                    );
                    ExitCode::SUCCESS
                }
                Ok(Created::Existing) => {
                    println!(
                        "{} already exists (use --force to replace it)",
                        CaPaths::new(&ca_dir).cert.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        CaCommand::Show { ca_dir } => match Ca::load(&ca_dir) {
            Ok(ca) => {
                print!("{}", ca.describe());
                print!("{}", ca.cert_pem);
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("{e} (create it with `promptgate ca init`)")),
        },
        CaCommand::Path { ca_dir } => {
            let p = CaPaths::new(&ca_dir).cert;
            let p = std::path::absolute(&p).unwrap_or(p);
            println!("{}", p.display());
            if p.exists() {
                ExitCode::SUCCESS
            } else {
                eprintln!("promptgate: note: the CA does not exist yet (`promptgate ca init`)");
                ExitCode::from(1)
            }
        }
    }
}
