//! One execution after its run exists: snapshot, config hand-over, the
//! command, then environment, exit status and the report.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use runlore_core::{LogBatch, Run, RunId, RunStatus};

use super::record::{ENVIRONMENT_PATH, EXEC_PATH, ExecRecord, REQUIREMENTS_PATH};
use super::sink::Sink;
use super::{MAX_TAG, Plan, Resolved, child, config_text, environment, truncate};
use crate::Ctx;
use crate::run_files::RunFiles;
use crate::snapshot;

/// Snapshot, config hand-over, the command itself, then what it left.
pub(super) async fn supervise(
    ctx: &Ctx,
    sink: &Sink,
    run: &Run,
    plan: &Plan,
    (argv_text, argv_hex): (&[String], &[Option<String>]),
    resolved: Option<Resolved>,
    policy: Option<snapshot::Policy>,
) -> Result<u8> {
    let files = &sink.files;
    let mut record = ExecRecord {
        argv: argv_text.to_vec(),
        argv_hex: argv_hex.to_vec(),
        cwd: plan.cwd.to_string_lossy().into_owned(),
        config: resolved.as_ref().map(|r| r.record.clone()),
        start_time: run.start_time.unwrap_or_else(runlore_core::time::now_ms),
        rerun_of: plan.rerun_of.as_ref().map(ToString::to_string),
        ..ExecRecord::default()
    };
    let program = plan.argv.first().map(|p| {
        let path = Path::new(p);
        // `.venv/bin/python` means the one under the command's directory.
        if path.components().count() > 1 {
            plan.cwd.join(path).to_string_lossy().into_owned()
        } else {
            p.to_string_lossy().into_owned()
        }
    });
    let environment = tokio::task::spawn_blocking(move || environment::capture(program));
    if let Some(policy) = policy {
        match take_snapshot(ctx, files, &run.id, &plan.cwd, policy).await {
            Ok(cwd_in_tree) => record.cwd_in_tree = Some(cwd_in_tree),
            Err(e) => {
                eprintln!("runlore: warning: no code snapshot: {e:#}");
                record.capture_errors.push(format!("code snapshot: {e:#}"));
            }
        }
    }
    let work = std::env::temp_dir().join(format!("runlore-exec-{}", run.id));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let mut env = vec![
        ("RUNLORE_RUN_ID".to_owned(), run.id.to_string()),
        ("RUNLORE_PROJECT".to_owned(), run.project.clone()),
        ("RUNLORE_EXPERIMENT".to_owned(), run.experiment.clone()),
    ];
    if let Some(server) = &ctx.config.server.value {
        env.push(("RUNLORE_SERVER".to_owned(), server.clone()));
    }
    if files.offline() && std::env::var_os("RUNLORE_FLUSH_TIMEOUT").is_none() {
        // The SDK in the command would wait 30 s at its end for a server
        // that was already gone; its journal keeps the data for sync.
        env.push(("RUNLORE_FLUSH_TIMEOUT".to_owned(), "0".to_owned()));
    }
    if let Some(resolved) = &resolved {
        let text = config_text(resolved)?;
        let path = work.join(format!("config.{}", resolved.record.format));
        std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        files
            .put(&run.id, &resolved.record.artifact, Bytes::from(text))
            .await?;
        env.push((
            "RUNLORE_CONFIG".to_owned(),
            path.to_string_lossy().into_owned(),
        ));
    }
    eprintln!(
        "runlore: run {} ('{}') in {}/{}",
        run.id, run.name, run.project, run.experiment
    );
    let spec = child::Spec {
        argv: &plan.argv,
        cwd: &plan.cwd,
        env,
        log_dir: &work,
        interval: plan.log_interval,
    };
    let outcome = child::run(files, &run.id, spec).await?;
    record.end_time = Some(runlore_core::time::now_ms());
    record.exit_code = outcome.exit_code;
    record.signal = outcome.signal;
    if let Some(e) = &outcome.spawn_error {
        record.capture_errors.push(e.clone());
    }
    let (status, code, tags) = ending(&outcome);
    // The command has run: whatever fails from here on is reported, and
    // runlore still exits with the command's code, which scripts rely on.
    let recorded = record_end(ctx, sink, run, record, environment, status, tags).await;
    if let Err(e) = &recorded {
        eprintln!("runlore: could not record the end of run {}: {e:#}", run.id);
    }
    if recorded.is_ok() && outcome.logs_stored {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("runlore: the command's logs are kept in {}", work.display());
    }
    match sink.journal_folder() {
        Some(folder) => eprintln!(
            "runlore: run {} {} (offline: `runlore sync` uploads {})",
            run.id,
            status.as_str(),
            folder.display()
        ),
        None => eprintln!("runlore: run {} {}", run.id, status.as_str()),
    }
    Ok(code)
}

/// The run's status, the exit code to leave with, and the tags saying why.
fn ending(outcome: &child::Outcome) -> (RunStatus, u8, BTreeMap<String, String>) {
    let mut tags = BTreeMap::new();
    if let Some(c) = outcome.exit_code {
        tags.insert("runlore.exit_code".to_owned(), c.to_string());
    }
    let (status, code) = match (&outcome.spawn_error, outcome.exit_code, outcome.signal) {
        (Some(e), _, _) => {
            eprintln!("runlore: {e}");
            tags.insert("runlore.error".to_owned(), truncate(e.clone()));
            (RunStatus::Failed, 127u8)
        }
        (None, Some(0), _) => (RunStatus::Finished, 0),
        (None, Some(c), _) => (RunStatus::Failed, u8::try_from(c).unwrap_or(1)),
        (None, None, Some(sig)) => {
            tags.insert("runlore.signal".to_owned(), sig.to_string());
            (RunStatus::Killed, u8::try_from(128 + sig).unwrap_or(1))
        }
        (None, None, None) => (RunStatus::Failed, 1),
    };
    (status, code, tags)
}

/// Environment, exec record, tags, final status, then REPORT.md.
async fn record_end(
    ctx: &Ctx,
    sink: &Sink,
    run: &Run,
    mut record: ExecRecord,
    environment: tokio::task::JoinHandle<environment::Environment>,
    status: RunStatus,
    mut tags: BTreeMap<String, String>,
) -> Result<()> {
    let files = &sink.files;
    match tokio::time::timeout(Duration::from_secs(60), environment).await {
        Ok(Ok(env)) => {
            let doc = serde_json::to_string(&env.document)?;
            if doc.len() <= MAX_TAG {
                tags.insert("runlore.environment".to_owned(), doc.clone());
            }
            files
                .put(&run.id, ENVIRONMENT_PATH, Bytes::from(doc))
                .await?;
            if let Some(req) = env.requirements {
                files
                    .put(&run.id, REQUIREMENTS_PATH, Bytes::from(req))
                    .await?;
            }
        }
        _ => record
            .capture_errors
            .push("environment: not captured within 60 s".to_owned()),
    }
    let json = serde_json::to_vec_pretty(&record)?;
    files.put(&run.id, EXEC_PATH, Bytes::from(json)).await?;
    let batch = LogBatch {
        tags,
        ..LogBatch::default()
    };
    sink.log_batch(&run.id, batch).await?;
    sink.end(&run.id, status, record.end_time).await?;
    if files.offline() {
        // The server builds the report of any run on demand once synced.
        return Ok(());
    }
    // Written last so it describes the finished run; a failure here loses
    // nothing (`runlore run report` makes it again).
    match crate::report::generate(ctx, files, &run.id).await {
        Ok(text) => {
            let stored = files.put(&run.id, crate::report::REPORT_PATH, Bytes::from(text));
            if let Err(e) = stored.await {
                eprintln!("runlore: warning: REPORT.md not stored: {e}");
            }
        }
        Err(e) => eprintln!("runlore: warning: REPORT.md not generated: {e:#}"),
    }
    Ok(())
}

/// Captures and uploads the code; returns the working directory's place in
/// the snapshot's tree.
async fn take_snapshot(
    ctx: &Ctx,
    files: &RunFiles,
    run: &RunId,
    cwd: &Path,
    policy: snapshot::Policy,
) -> Result<String> {
    let skip = vec![ctx.config.data_dir.value.clone()];
    let dir = cwd.to_owned();
    let mut captured =
        tokio::task::spawn_blocking(move || snapshot::capture(&dir, &policy, &skip)).await??;
    snapshot::upload(files, run, &mut captured).await?;
    let m = &captured.manifest;
    let skipped = m.files.iter().filter(|f| f.skipped.is_some()).count();
    if skipped > 0 {
        eprintln!(
            "runlore: snapshot: {skipped} file(s) recorded by hash only (see `runlore run report`)"
        );
    }
    Ok(m.cwd.clone())
}
