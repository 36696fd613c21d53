//! The flags of `runlore exec` and `runlore run rerun` (kept beside the
//! code that reads them; `cli.rs` re-exports them).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Base config, YAML or JSON; the resolved config is passed to the
    /// command as a file named by $RUNLORE_CONFIG
    #[arg(long = "config", id = "config", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Override KEY=VALUE with a dotted key, typed like YAML
    /// (model.lr=0.01, model.layers=[64,32], flag=true, x=null)
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Allow --set to add keys the base config lacks
    #[arg(long)]
    pub allow_new: bool,
    /// A tag, KEY=VALUE or a bare label (repeatable)
    #[arg(long = "tag", short = 't', value_name = "KEY[=VALUE]")]
    pub tags: Vec<String>,
    /// Experiment of the project (`Default` when omitted; made if missing)
    #[arg(long, short = 'e', value_name = "NAME")]
    pub experiment: Option<String>,
    /// Run name
    #[arg(long)]
    pub name: Option<String>,
    /// A DAG parent this run derives from (repeatable, primary first)
    #[arg(long, value_name = "RUN")]
    pub parent: Vec<String>,
    /// The run this one resumes (a resumed_from edge)
    #[arg(long, value_name = "RUN")]
    pub resume: Option<String>,
    /// With --resume: the parent's step the run resumes at
    #[arg(long, value_name = "STEP", requires = "resume")]
    pub resume_step: Option<i64>,
    /// Do not take a code snapshot
    #[arg(long)]
    pub no_snapshot: bool,
    /// Seconds between uploads of the growing logs
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub log_interval: f64,
    /// The command and its arguments (`--` before them is optional but
    /// clearer; everything after the command's name is its own)
    #[arg(trailing_var_arg = true, required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct RerunArgs {
    /// The run to re-run (id or unique prefix)
    pub id: String,
    /// Override KEY=VALUE of the original's resolved config
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Allow --set to add keys the config lacks
    #[arg(long)]
    pub allow_new: bool,
    /// A tag, KEY=VALUE or a bare label (repeatable)
    #[arg(long = "tag", short = 't', value_name = "KEY[=VALUE]")]
    pub tags: Vec<String>,
    /// Name of the new run
    #[arg(long)]
    pub name: Option<String>,
    /// Restore into this (new or empty) folder instead of a fresh temporary one
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
}
