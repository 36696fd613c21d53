//! `runlore exec [--config base.yaml] [--set k=v]… -- command args…`: runs a
//! command as a tracked run. Before it starts: the config is resolved and
//! handed over (`RUNLORE_CONFIG`), the code snapshot is taken; while it runs:
//! output is teed into `logs/`; after: environment, exit code and status.

pub mod args;
mod child;
mod environment;
pub mod overrides;
pub mod record;
mod sink;
mod supervise;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use runlore_core::{
    EdgeKind, Error, ErrorKind, LogBatch, NewRun, ParentLink, Run, RunId, RunStatus,
};
use serde_json::Value;

use self::record::{CONFIG_STEM, ConfigRecord, shell_join};
use self::sink::Sink;
use crate::Ctx;
use crate::cli::ExecArgs;
use crate::run_files::RunFiles;
use crate::snapshot;

/// Longest tag value the store takes; longer documents go as files only.
const MAX_TAG: usize = 8_000;
/// Flattened config leaves kept as params at most (MLflow's batch limit).
const MAX_PARAMS: usize = 1_000;

/// The command's exit code, carried out of `main` without an `error:` line:
/// `runlore exec` exits as its command did.
#[derive(Debug)]
pub struct ChildExit(pub u8);

impl std::fmt::Display for ChildExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the command exited with {}", self.0)
    }
}

impl std::error::Error for ChildExit {}

/// Where the config comes from.
pub enum Base {
    /// `--config FILE`.
    File(PathBuf),
    /// A config already resolved (a rerun's), with its original label.
    Tree {
        tree: Value,
        label: String,
        format: String,
    },
}

/// Everything one execution needs; `exec` and `rerun` both build one.
pub struct Plan {
    pub argv: Vec<OsString>,
    pub cwd: PathBuf,
    pub base: Option<Base>,
    pub sets: Vec<String>,
    pub allow_new: bool,
    pub tags: Vec<String>,
    pub parents: Vec<ParentLink>,
    pub experiment: Option<String>,
    pub name: Option<String>,
    pub snapshot: bool,
    pub log_interval: Duration,
    pub rerun_of: Option<RunId>,
}

pub async fn run(ctx: &Ctx, args: ExecArgs) -> Result<()> {
    let mut parents = Vec::new();
    for parent in &args.parent {
        parents.push(ParentLink {
            run_id: crate::run::resolve_id(ctx, parent).await?,
            kind: EdgeKind::DerivedFrom,
            resume_step: None,
        });
    }
    if let Some(resume) = &args.resume {
        parents.push(ParentLink {
            run_id: crate::run::resolve_id(ctx, resume).await?,
            kind: EdgeKind::ResumedFrom,
            resume_step: args.resume_step,
        });
    }
    if !args.log_interval.is_finite() || args.log_interval < 0.1 {
        return Err(Error::invalid("--log-interval must be at least 0.1 seconds").into());
    }
    let plan = Plan {
        argv: args.command,
        cwd: std::env::current_dir().context("cannot read the working directory")?,
        base: args.config_file.map(Base::File),
        sets: args.set,
        allow_new: args.allow_new,
        tags: args.tags,
        parents,
        experiment: args.experiment,
        name: args.name,
        snapshot: !args.no_snapshot,
        log_interval: Duration::from_secs_f64(args.log_interval),
        rerun_of: None,
    };
    let code = execute(ctx, plan).await?;
    Err(ChildExit(code).into())
}

/// Whether `--config` appears before the `exec` subcommand (the settings
/// file) rather than after it (the base config).
pub fn config_flag_is_global(args: impl Iterator<Item = OsString>) -> bool {
    for arg in args.skip(1) {
        let text = arg.to_string_lossy();
        if text == "exec" {
            return false;
        }
        if text == "--config" || text.starts_with("--config=") {
            return true;
        }
    }
    false
}

/// Tags as `KEY=VALUE` or a bare label (`--tag ablation`, an empty value).
fn parse_tags(items: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for item in items {
        let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
        runlore_core::validate::key("tag", k).context("--tag")?;
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

struct Resolved {
    tree: Value,
    record: ConfigRecord,
}

fn resolve_config(plan: &Plan) -> runlore_core::Result<Option<Resolved>> {
    let overrides = overrides::parse_all(&plan.sets)?;
    let (base, label, format) = match &plan.base {
        None if overrides.is_empty() => return Ok(None),
        None => (
            Value::Object(serde_json::Map::new()),
            None,
            "yaml".to_owned(),
        ),
        Some(Base::File(path)) => {
            let format = if path
                .to_string_lossy()
                .to_ascii_lowercase()
                .ends_with(".json")
            {
                "json"
            } else {
                "yaml"
            };
            (
                overrides::read_base(&plan.cwd.join(path))?,
                Some(path.to_string_lossy().into_owned()),
                format.to_owned(),
            )
        }
        Some(Base::Tree {
            tree,
            label,
            format,
        }) => (tree.clone(), Some(label.clone()), format.clone()),
    };
    let tree = overrides::apply(base, &overrides, plan.allow_new)?;
    Ok(Some(Resolved {
        tree,
        record: ConfigRecord {
            base: label,
            overrides,
            allow_new: plan.allow_new,
            artifact: format!("{CONFIG_STEM}.{format}"),
            format,
        },
    }))
}

fn config_text(resolved: &Resolved) -> Result<String> {
    if resolved.record.format == "json" {
        Ok(serde_json::to_string_pretty(&resolved.tree)?)
    } else {
        Ok(yaml_serde::to_string(&resolved.tree)?)
    }
}

/// Runs the plan as a new run and returns the exit code to leave with.
pub async fn execute(ctx: &Ctx, plan: Plan) -> Result<u8> {
    if plan.argv.is_empty() {
        return Err(
            Error::invalid("no command given: runlore exec [OPTIONS] -- COMMAND [ARGS]…").into(),
        );
    }
    let user_tags = parse_tags(&plan.tags)?;
    // A broken [snapshot] table is a mistake in the project's settings:
    // refused before anything is made, like a bad flag.
    let policy = if plan.snapshot {
        let loaded = snapshot::load_policy(ctx.config.file.as_deref());
        Some(loaded.map_err(|e| Error::invalid(format!("{e:#}")))?)
    } else {
        None
    };
    let (argv_text, argv_hex) = runlore_core::repro::record::argv_repr(&plan.argv);
    let config = resolve_config(&plan);
    let mut tags: std::collections::BTreeMap<String, String> = user_tags.into_iter().collect();
    tags.insert("runlore.source".into(), "exec".into());
    tags.insert("runlore.command".into(), truncate(shell_join(&argv_text)));
    tags.insert(
        "runlore.cwd".into(),
        truncate(plan.cwd.to_string_lossy().into_owned()),
    );
    if let Some(of) = &plan.rerun_of {
        tags.insert("runlore.rerun_of".into(), of.to_string());
    }
    let mut params = std::collections::BTreeMap::new();
    let mut features = None;
    if let Ok(Some(resolved)) = &config {
        if let Some(base) = &resolved.record.base {
            tags.insert("runlore.config.base".into(), truncate(base.clone()));
        }
        let sets = serde_json::to_string(&plan.sets)?;
        tags.insert("runlore.config.overrides".into(), truncate(sets));
        let flat = overrides::flatten(&resolved.tree);
        if flat.len() <= MAX_PARAMS {
            params = flat
                .into_iter()
                .filter(|(k, v)| {
                    runlore_core::validate::key("param", k).is_ok()
                        && runlore_core::validate::param_value(k, v).is_ok()
                })
                .collect();
        }
        features = Some(resolved.tree.clone());
    }
    let new = NewRun {
        project: ctx.project().to_owned(),
        experiment: plan.experiment.clone(),
        name: plan.name.clone(),
        status: Some(RunStatus::Running),
        user: std::env::var("USER").ok(),
        params,
        tags,
        features,
        parents: plan.parents.clone(),
        ..NewRun::default()
    };
    let (sink, run) = create_run(ctx, new).await?;
    let resolved = match config {
        Ok(resolved) => resolved,
        Err(e) => {
            // The attempt is kept (FAILED, with the reason) so it is not lost
            // from the experiment; the command never started.
            fail_run(&sink, &run, &e.to_string()).await?;
            return Err(anyhow::Error::new(e).context(format!(
                "run {} recorded as FAILED; the command was not started",
                run.id
            )));
        }
    };
    let outcome = supervise::supervise(
        ctx,
        &sink,
        &run,
        &plan,
        (&argv_text, &argv_hex),
        resolved,
        policy,
    )
    .await;
    match outcome {
        Ok(code) => Ok(code),
        Err(e) => {
            let _ = fail_run(&sink, &run, &format!("{e:#}")).await;
            Err(e)
        }
    }
}

/// The run in the store, or, when the server cannot be reached, in a
/// journal that `runlore sync` ships later (the command runs either way).
async fn create_run(ctx: &Ctx, new: NewRun) -> Result<(Sink, Run)> {
    match ctx.store.create_run(new.clone()).await {
        Ok(run) => {
            let files = RunFiles::open(ctx)?;
            Ok((Sink::online(Arc::clone(&ctx.store), files), run))
        }
        Err(e) if e.kind() == ErrorKind::Unavailable && ctx.config.server.value.is_some() => {
            let root = crate::journal::default_root()?;
            let (sink, run) = Sink::offline(&root, new)?;
            eprintln!(
                "runlore: {e}\nrunlore: recording run {} offline in {}; `runlore sync` uploads it when the server is back",
                run.id,
                sink.journal_folder().unwrap_or(&root).display()
            );
            Ok((sink, run))
        }
        Err(e) => Err(e.into()),
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_TAG {
        let mut cut = MAX_TAG - 3;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

async fn fail_run(sink: &Sink, run: &Run, reason: &str) -> Result<()> {
    let batch = LogBatch {
        tags: [("runlore.error".to_owned(), truncate(reason.to_owned()))].into(),
        ..LogBatch::default()
    };
    sink.log_batch(&run.id, batch).await?;
    sink.end(&run.id, RunStatus::Failed, None).await
}
