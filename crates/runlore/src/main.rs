//! `runlore`: the tracking server, the web UI and the CLI in one binary.
//! Every command but `server` works through `Arc<dyn MetadataStore>`: the
//! local data dir by default, or a server with `--server URL`.

mod artifact;
mod artifact_diff;
mod backend;
mod cli;
mod config;
mod demo;
mod exec;
mod experiment;
mod features;
mod journal;
mod lineage;
mod lineage_print;
mod output;
mod paging;
mod project;
mod report;
mod restore;
mod run;
mod run_create;
mod run_files;
mod server;
mod snapshot;
mod snapshot_cmd;
mod sync;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use runlore_core::{ErrorKind, MetadataStore};

use crate::cli::{Cli, Command, ConfigCommand};
use crate::config::{Config, Flags};

/// What every command gets: the store, the resolved settings, the format.
pub struct Ctx {
    pub store: Arc<dyn MetadataStore>,
    /// The opened place `store` belongs to; also gives its artifact service.
    pub backend: backend::Backend,
    pub config: Config,
    pub json: bool,
}

impl Ctx {
    /// The project commands work in (`--project`, `RUNLORE_PROJECT`,
    /// `runlore.toml`, else `default`).
    pub fn project(&self) -> &str {
        &self.config.project.value
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_cli(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `runlore run list | head`: the reader left; nothing to report.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        // `runlore exec` and `run rerun` leave with their command's code.
        Err(err) if err.downcast_ref::<exec::ChildExit>().is_some() => {
            ExitCode::from(err.downcast_ref::<exec::ChildExit>().map_or(1, |c| c.0))
        }
        Err(err) => {
            let message = format!("{err:#}").replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run_cli(cli: Cli) -> Result<()> {
    let mut flags = Flags {
        config: cli.global.config.clone(),
        server: cli.global.server.clone(),
        data_dir: cli.global.data_dir.clone(),
        db: cli.global.db.clone(),
        project: cli.global.project.clone(),
        ..Flags::default()
    };
    if let Command::Server(args) = &cli.command {
        flags.host = args.host.clone();
        flags.port = args.port;
        flags.ui_dir = args.ui_dir.clone();
        flags.artifacts = args.artifacts.clone();
        flags.public_names = args.public_names.clone();
    }
    // `exec --config` names the base config, and clap shares the value with
    // the global `--config` (same id): which one was meant is in the order.
    let mut cli = cli;
    if let Command::Exec(args) = &mut cli.command {
        if exec::config_flag_is_global(std::env::args_os()) {
            args.config_file = None;
        } else {
            flags.config = None;
        }
    }
    let config = config::load(&flags)?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    init_logging(matches!(cli.command, Command::Server(_)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(dispatch(cli, config))
}

async fn dispatch(cli: Cli, config: Config) -> Result<()> {
    let json = cli.global.json;
    let command = match cli.command {
        Command::Server(args) => {
            let durability = args.durability.unwrap_or_default();
            return server::run(&config, args.allow_remote, durability).await;
        }
        Command::Config(ConfigCommand::Show) => return config::show(&config, json),
        other => other,
    };
    let backend = backend::Backend::open(&config).await?;
    let ctx = Ctx {
        store: backend.metadata(),
        backend,
        config,
        json,
    };
    match command {
        Command::Project(c) => project::run(&ctx, c).await,
        Command::Experiment(c) => experiment::run(&ctx, c).await,
        Command::Run(c) => run::run(&ctx, c).await,
        Command::Sync(args) => sync::run(&ctx, args.path).await,
        Command::Exec(args) => exec::run(&ctx, args).await,
        Command::Artifact(c) => artifact::run(&ctx, c).await,
        Command::Lineage(c) => lineage::run(&ctx, c).await,
        Command::Gc(args) => lineage::gc(&ctx, args).await,
        Command::Demo(args) => demo::run(&ctx, args).await,
        Command::Server(_) | Command::Config(_) => Ok(()),
    }
}

/// Logs go to stderr; `RUNLORE_LOG` sets the filter (`info` for the server,
/// `error` for other commands by default).
fn init_logging(server: bool) {
    use tracing_subscriber::EnvFilter;
    // Commands report their own errors in one line; library warnings (a
    // corrupt blob, already in that line) would only repeat them.
    let default = if server { "info" } else { "error" };
    let filter =
        EnvFilter::try_from_env(config::ENV_LOG).unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 1 failure, 2 invalid arguments, 3 not found, 4 already exists or
/// conflict, 5 server unreachable (also listed in `runlore --help`).
fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<lineage::VerifyFailed>().is_some() {
        return lineage::EXIT_VERIFY_FAILED;
    }
    let kind = err
        .chain()
        .find_map(|e| e.downcast_ref::<runlore_core::Error>())
        .map(runlore_core::Error::kind);
    match kind {
        Some(ErrorKind::InvalidArgument) => 2,
        Some(ErrorKind::NotFound) => 3,
        Some(ErrorKind::AlreadyExists | ErrorKind::Conflict) => 4,
        Some(ErrorKind::Unavailable) => 5,
        _ => 1,
    }
}
