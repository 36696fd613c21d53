//! `cargo xtask …`: the project's own automation, so a newcomer needs two
//! commands and nothing else: `cargo xtask serve` and `cargo xtask test`.

mod bench;
mod openapi_test;
mod postgres;
mod process;
mod python;
mod s3;
mod serve;
mod test;
mod ui;
mod ui_test;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Runlore project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build (UI when present, then the release binary) and start the server
    /// on the embedded default store. Extra arguments go to `runlore server`.
    Serve {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run everything the project tests: formatting, lints, unit, store,
    /// server and CLI tests, then the MLflow-compatibility suite (the real
    /// `mlflow` client in .venv), installing what they need first.
    Test {
        /// Skip `cargo fmt --check` and clippy.
        #[arg(long)]
        no_lint: bool,
    },
    /// Only the OpenAPI check: schemathesis against the debug binary (also
    /// part of `test`).
    Openapi,
    /// Build the web UI (npm ci + vite build) when ui/ exists.
    Ui,
    /// Start the test suite's throwaway PostgreSQL and print its URL
    /// (RUNLORE_TEST_POSTGRES_URL=...) until Ctrl-C, for running single
    /// tests against it.
    Postgres,
    /// Run the benchmarks against a release build and print the figures
    /// (docs/benchmarks.md records them).
    Bench {
        /// Smaller workloads, for checking that the harness works.
        #[arg(long)]
        quick: bool,
        /// Instead: the same `mlflow` client against Runlore and against a
        /// real `mlflow server`, with ratios (bench/mlflow_peer.py).
        #[arg(long)]
        mlflow: bool,
        /// Instead: the Python SDK's per-call cost and end-to-end rate
        /// (bench/sdk_overhead.py).
        #[arg(long, conflicts_with = "mlflow")]
        sdk: bool,
        /// Only the lineage workloads (the trace through a chain of runs and
        /// the PROV export), a minute or two instead of the whole run.
        #[arg(long, conflicts_with_all = ["mlflow", "sdk"])]
        lineage: bool,
        /// Only native ingest, under `--durability process` and `power`
        /// alternately (what SQLite's synchronous=FULL costs).
        #[arg(long, conflicts_with_all = ["mlflow", "sdk", "lineage"])]
        durability: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { args } => serve::run(&args),
        Command::Test { no_lint } => test::run(!no_lint),
        Command::Openapi => openapi_test::check(),
        Command::Ui => ui::build().map(|_| ()),
        Command::Postgres => postgres::serve(),
        Command::Bench { quick, mlflow, .. } if mlflow => bench::mlflow_peer(quick),
        Command::Bench { quick, sdk, .. } if sdk => bench::python_script("sdk_overhead", quick),
        Command::Bench {
            quick, durability, ..
        } if durability => bench::durability(quick),
        Command::Bench { quick, lineage, .. } => bench::run(quick, lineage),
    }
}
