//! The command line, as clap definitions. Settings that can also come from
//! `runlore.toml` or `RUNLORE_*` variables are `Option`s here and resolved in
//! `config.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::exec::args::{ExecArgs, RerunArgs};

const AFTER_HELP: &str = "\
Settings come from built-in defaults, then ./runlore.toml (or --config), then
environment variables, then flags:
  runlore.toml   environment        flag
  server         RUNLORE_SERVER     --server URL      (empty: the local data dir)
  data_dir       RUNLORE_DATA_DIR   --data-dir DIR    (default ./runlore-data)
  db             RUNLORE_DB         --db URL          (default sqlite: = <data_dir>/runlore.db;
                                                       sqlite:PATH, postgres://…)
  project        RUNLORE_PROJECT    --project NAME    (default \"default\")
  host           RUNLORE_HOST       server --host     (default 127.0.0.1)
  port           RUNLORE_PORT       server --port     (default 5000)
  ui_dir         RUNLORE_UI_DIR     server --ui-dir
  artifacts      RUNLORE_ARTIFACTS  server --artifacts (default <data_dir>/blobs)
Log filter: RUNLORE_LOG (e.g. info, debug).

Exit codes: 0 ok, 1 failure, 2 invalid arguments, 3 not found,
4 already exists or conflict, 5 server unreachable, 6 `lineage verify` found
missing or altered files.";

#[derive(Debug, Parser)]
#[command(
    name = "runlore",
    version,
    about = "Runlore: a research-first experiment tracker (server, web UI and CLI)",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Work against the Runlore server at URL instead of the local data dir
    /// [env: RUNLORE_SERVER]
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Local data dir [env: RUNLORE_DATA_DIR] [default: ./runlore-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Metadata database: sqlite: (the data dir's runlore.db), sqlite:PATH or
    /// postgres://user:password@host:port/database [env: RUNLORE_DB]
    /// [default: sqlite:]
    #[arg(long, global = true, value_name = "URL")]
    pub db: Option<String>,
    /// Project to work in [env: RUNLORE_PROJECT] [default: from runlore.toml, else "default"]
    #[arg(long, short = 'p', global = true, value_name = "NAME")]
    pub project: Option<String>,
    /// Print JSON instead of tables (for scripts)
    #[arg(long, global = true)]
    pub json: bool,
    /// Read settings from this file instead of ./runlore.toml
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tracking server (native API under /api/v1, the MLflow API
    /// under /api/2.0/mlflow, web UI when built)
    Server(ServerArgs),
    /// Create, list and switch projects
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Create, list and manage experiments of a project
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// List, inspect and manage runs
    #[command(subcommand)]
    Run(RunCommand),
    /// Show the resolved settings and where each came from
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Upload what the Python SDK left in its journals (server down, or the
    /// program ended first) to the server or the local data dir
    Sync(SyncArgs),
    /// Run a command as a tracked run: config resolved and handed over,
    /// code snapshot, logs, environment, exit code
    /// (`runlore exec --config base.yaml --set lr=0.1 -- python train.py`)
    Exec(ExecArgs),
    /// Upload, download, list and compare a run's files; record inputs by
    /// hash
    #[command(subcommand)]
    Artifact(crate::artifact::ArtifactCommand),
    /// What produced a file and from what: show, trace, verify, export as
    /// W3C PROV, query
    #[command(subcommand)]
    Lineage(crate::lineage::LineageCommand),
    /// Remove stored files no run refers to (a dry run unless --apply)
    Gc(crate::lineage::GcArgs),
    /// Seed a demo project (default `demo`): a DAG of runs with features,
    /// metrics, artifacts, a failed and a planned run; leaves an existing
    /// project alone
    Demo(crate::demo::DemoArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// A journal root or one run's journal folder
    /// [default: $RUNLORE_JOURNAL_DIR, else ~/.runlore/journal]
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to bind [env: RUNLORE_HOST] [default: 127.0.0.1]
    #[arg(long, value_name = "ADDR")]
    pub host: Option<String>,
    /// Port to bind; 0 picks a free one [env: RUNLORE_PORT] [default: 5000]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Serve the web UI from this folder (e.g. ui/dist)
    /// [env: RUNLORE_UI_DIR]
    #[arg(long, value_name = "PATH")]
    pub ui_dir: Option<PathBuf>,
    /// Where artifact bytes are stored: a folder, or s3://bucket/prefix with
    /// the AWS_* variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …)
    /// [env: RUNLORE_ARTIFACTS] [default: <data_dir>/blobs]
    #[arg(long, value_name = "FOLDER|URL")]
    pub artifacts: Option<String>,
    /// A host name (or name:port) the server answers to besides localhost
    /// and loopback addresses, e.g. its name behind a proxy; repeatable.
    /// Requests with any other Host are refused (DNS rebinding)
    /// [env: RUNLORE_PUBLIC_NAME, comma-separated]
    #[arg(long = "public-name", value_name = "HOST")]
    pub public_names: Vec<String>,
    /// Allow binding a non-loopback address. Runlore has no authentication
    /// yet: anyone who can reach the address can read and change all data
    #[arg(long)]
    pub allow_remote: bool,
    /// What an acknowledged write survives: `process` (a crash or kill of
    /// the server; the default) or `power` (also a power loss or OS crash;
    /// fsyncs every commit, slower ingest: docs/benchmarks.md)
    #[arg(long, value_name = "process|power")]
    pub durability: Option<runlore_store::Durability>,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project
    Create {
        name: String,
        #[arg(long, short = 'd', default_value = "")]
        description: String,
    },
    /// List projects (active ones unless --all)
    List {
        /// Include archived projects
        #[arg(long)]
        all: bool,
    },
    /// Show one project
    Show { name: String },
    /// Make NAME the current project: writes `project = "NAME"` into
    /// ./runlore.toml (or the --config file), the only command that writes
    /// configuration
    Use { name: String },
    /// Archive a project (hidden from lists; its runs are kept)
    Archive { name: String },
    /// Bring an archived project back
    Unarchive { name: String },
    /// Show a project's settings, or change its naming rule
    Settings {
        name: String,
        /// Regex with named groups for run names, e.g.
        /// "(?P<id>\\d+)_from_(?P<parent>\\d+)_.*"
        #[arg(long, value_name = "REGEX")]
        naming_pattern: Option<String>,
        /// Where a new run's parent comes from: group, explicit or none
        #[arg(long, value_name = "RULE", default_value = "explicit")]
        parent_from: String,
        /// Refuse run names that do not match the pattern
        #[arg(long)]
        enforce_naming: bool,
        /// Remove the naming rule
        #[arg(long, conflicts_with = "naming_pattern")]
        clear_naming: bool,
        /// The metrics that judge runs, KEY:min|max[:last|best|average]
        /// (repeatable; replaces the list), e.g. val_loss:min:best
        #[arg(long = "key-metric", value_name = "SPEC")]
        key_metrics: Vec<String>,
        /// Remove the key metrics
        #[arg(long, conflicts_with = "key_metrics")]
        clear_key_metrics: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Create an experiment in the project
    Create {
        name: String,
        #[arg(long, short = 'd', default_value = "")]
        description: String,
    },
    /// List the project's experiments (active ones unless --all)
    List {
        /// Include deleted experiments
        #[arg(long)]
        all: bool,
        /// Only names containing this text (case-insensitive)
        #[arg(long, value_name = "TEXT")]
        name_contains: Option<String>,
        /// Show at most N experiments
        #[arg(long, default_value_t = 100, value_name = "N", value_parser = at_least_one())]
        limit: usize,
    },
    /// Show one experiment, by name (in the project) or by id
    Show {
        #[arg(value_name = "ID_OR_NAME")]
        experiment: String,
    },
    /// Rename an experiment
    Rename {
        #[arg(value_name = "ID_OR_NAME")]
        experiment: String,
        new_name: String,
    },
    /// Delete an experiment (restorable)
    Delete {
        #[arg(value_name = "ID_OR_NAME")]
        experiment: String,
    },
    /// Restore a deleted experiment
    Restore {
        #[arg(value_name = "ID_OR_NAME")]
        experiment: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Create a run, optionally with features from a YAML or JSON file and
    /// DAG parents (`runlore run create --features f.yaml --parent 3f2a`)
    Create(RunCreateArgs),
    /// List runs of the project, newest first unless --order-by
    List {
        /// Only runs of this experiment (repeatable)
        #[arg(long, short = 'e', value_name = "NAME")]
        experiment: Vec<String>,
        /// Filter, e.g. "metrics.acc > 0.9 AND params.lr = '0.01'"
        #[arg(long, short = 'f', value_name = "EXPR")]
        filter: Option<String>,
        /// Sort key, e.g. "metrics.loss ASC" (repeatable; first wins)
        #[arg(long, short = 'o', value_name = "KEY")]
        order_by: Vec<String>,
        /// Show at most N runs
        #[arg(long, short = 'n', default_value_t = 50, value_name = "N", value_parser = at_least_one())]
        limit: usize,
        /// Include deleted runs
        #[arg(long)]
        all: bool,
    },
    /// Show a run: attributes, params, tags and latest metrics
    Show {
        /// The run id, or a unique prefix of it (the 8 characters `run list` shows)
        id: String,
    },
    /// Delete a run (restorable)
    Delete { id: String },
    /// Restore a deleted run; with --to DIR, rebuild the run's source tree,
    /// resolved config and package list in DIR instead
    Restore {
        id: String,
        /// Rebuild the captured code in this new or empty folder, verified
        /// file by file against the snapshot
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
    /// Run a run's command again, from its restored code and config, as a
    /// new run derived from it
    Rerun(RerunArgs),
    /// Build a Python virtual environment with the run's captured packages
    Env {
        id: String,
        /// The new environment's folder (new or empty)
        #[arg(long, value_name = "DIR")]
        build: PathBuf,
    },
    /// A run's REPORT.md: what ran, config, provenance, metrics, components,
    /// artifacts
    Report {
        id: String,
        /// Write to this file instead of standard output
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also store it as the run's artifact REPORT.md
        #[arg(long)]
        save: bool,
    },
    /// Capture the code under DIR (default: here) as RUN's snapshot, so
    /// `run restore --to` can rebuild it; the Python SDK runs this at init
    Snapshot {
        id: String,
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Wait up to this many seconds for the run to exist (the SDK
        /// creates its run in the background)
        #[arg(long, default_value_t = 0, value_name = "SECONDS")]
        wait: u64,
    },
    /// What changed in the features from run A to run B (RFC 6902 operations)
    Diff { a: String, b: String },
    /// A run's features: the full tree, its diff against the primary parent,
    /// and its parents
    Features { id: String },
    /// A run's ancestors and descendants in the experiment graph
    Tree {
        id: String,
        /// Generations to show each way
        #[arg(long, default_value_t = 5)]
        depth: u32,
    },
    /// Replace a run's DAG parents (primary first); no PARENT makes it a root
    SetParent {
        id: String,
        /// Parent runs (ids or unique prefixes), primary first
        parents: Vec<String>,
        /// derived_from (default), resumed_from, merged_from or ablation_of
        #[arg(long, default_value = "derived_from")]
        kind: String,
        /// For resumed_from: the parent's step the run resumed at
        #[arg(long, value_name = "STEP")]
        resume_step: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct RunCreateArgs {
    /// Experiment of the project (`Default` when omitted; made if missing)
    #[arg(long, short = 'e', value_name = "NAME")]
    pub experiment: Option<String>,
    /// Run name (the project's naming rule may parse it for a parent)
    #[arg(long)]
    pub name: Option<String>,
    /// The run's features: a YAML or JSON file with a mapping at the root
    /// (`-` reads YAML from standard input)
    #[arg(long, value_name = "FILE")]
    pub features: Option<PathBuf>,
    /// A DAG parent (id or unique prefix); repeat for a merge, primary first
    #[arg(long, value_name = "RUN")]
    pub parent: Vec<String>,
    /// Edge kind to the parents: derived_from, resumed_from, merged_from or
    /// ablation_of
    #[arg(long, default_value = "derived_from")]
    pub kind: String,
    /// For resumed_from: the parent's step the run resumed at
    #[arg(long, value_name = "STEP")]
    pub resume_step: Option<i64>,
    /// A param, KEY=VALUE (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// A tag, KEY=VALUE (repeatable)
    #[arg(long = "tag", short = 't', value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Create the run as PLANNED (not started yet) instead of RUNNING
    #[arg(long)]
    pub planned: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print each setting, its value and where it came from
    Show,
}

fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks a subcommand's flags only when that subcommand is used;
    /// this checks all of them at once (e.g. two flags sharing `-p`).
    #[test]
    fn every_subcommand_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
