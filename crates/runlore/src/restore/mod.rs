//! `runlore run restore RUN --to DIR`, `runlore run rerun RUN` and
//! `runlore run env RUN --build DIR`: getting back what produced a run.

pub mod confine;
mod env;
mod tree;

pub use env::build_env;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use runlore_core::{EdgeKind, Error, ErrorKind, ParentLink, RunId};
use serde_json::json;

use crate::Ctx;
use crate::cli::RerunArgs;
use crate::exec::record::{ENVIRONMENT_PATH, EXEC_PATH, ExecRecord, REQUIREMENTS_PATH};
use crate::exec::{Base, ChildExit, Plan};
use crate::run_files::RunFiles;
use crate::snapshot::{MANIFEST_PATH, Manifest};

/// Folder at the top of a restored tree holding what is not source: the
/// manifest, the resolved config, the package list, the command.
pub const EXTRAS_DIR: &str = ".runlore-run";

/// The run files besides the manifest (record, config, package list) are
/// small; anything bigger than this is refused unread.
const MAX_RUN_FILE_BYTES: u64 = 16 << 20;

/// An artifact's bytes, or `None` when the run has no such artifact; more
/// than `max` bytes (by the listing or as they arrive) is an error, so a
/// hostile store cannot make a restore hold gigabytes.
async fn optional_at_most(
    files: &RunFiles,
    run: &RunId,
    path: &str,
    max: u64,
) -> Result<Option<bytes::Bytes>> {
    let too_big = || Error::invalid(format!("{path} of run {run} is over {max} bytes; refused"));
    let (artifact, mut stream) = match files.service()?.download(run, path).await {
        Ok(found) => found,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if artifact.size > max {
        return Err(too_big().into());
    }
    let mut out = bytes::BytesMut::new();
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        let chunk = chunk.with_context(|| format!("reading {path} of run {run}"))?;
        if (out.len() + chunk.len()) as u64 > max {
            return Err(too_big().into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out.freeze()))
}

async fn optional(files: &RunFiles, run: &RunId, path: &str) -> Result<Option<bytes::Bytes>> {
    optional_at_most(files, run, path, MAX_RUN_FILE_BYTES).await
}

/// The run's manifest, checked: it may come from anyone who could write
/// the run's artifacts, and restore writes what it names.
pub async fn load_manifest(files: &RunFiles, run: &RunId) -> Result<Manifest> {
    let max = runlore_core::repro::check::MAX_MANIFEST_BYTES;
    let Some(bytes) = optional_at_most(files, run, MANIFEST_PATH, max).await? else {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("run {run} has no code snapshot (runs started with `runlore exec` have one)"),
        )
        .into());
    };
    Ok(Manifest::from_untrusted_json(&bytes)?)
}

pub async fn load_record(files: &RunFiles, run: &RunId) -> Result<Option<ExecRecord>> {
    match optional(files, run, EXEC_PATH).await? {
        Some(bytes) => {
            let record: ExecRecord = serde_json::from_slice(&bytes).map_err(|e| {
                Error::invalid(format!("{EXEC_PATH} of run {run} is malformed: {e}"))
            })?;
            record.check()?;
            Ok(Some(record))
        }
        None => Ok(None),
    }
}

/// `runlore run restore RUN --to DIR`.
pub async fn restore(ctx: &Ctx, id: &str, dest: &Path) -> Result<()> {
    let run = crate::run::resolve_id(ctx, id).await?;
    let files = RunFiles::open(ctx)?;
    let summary = restore_into(ctx, &files, &run, dest).await?;
    if ctx.json {
        return crate::output::print_json(&summary);
    }
    Ok(())
}

/// Restores and prints what happened; an error when the tree differs from
/// the captured one in more than the files the snapshot could not store.
async fn restore_into(
    ctx: &Ctx,
    files: &RunFiles,
    run: &RunId,
    dest: &Path,
) -> Result<serde_json::Value> {
    // Both read and checked before anything is written.
    let manifest = load_manifest(files, run).await?;
    let record = load_record(files, run).await?;
    tree::prepare(dest)?;
    let rebuilt = tree::rebuild(files, run, &manifest, dest).await?;
    // Through `Confined` too: a checkout may have brought a link named
    // like the extras folder.
    let confined = confine::Confined::new(dest)?;
    let extras = Path::new(EXTRAS_DIR);
    confined.write(
        &extras.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest)?,
        0o644,
    )?;
    let mut written = vec!["manifest.json".to_owned()];
    let mut wanted = vec![
        (EXEC_PATH.to_owned(), "exec.json".to_owned()),
        (REQUIREMENTS_PATH.to_owned(), "requirements.txt".to_owned()),
        (ENVIRONMENT_PATH.to_owned(), "environment.json".to_owned()),
    ];
    if let Some(config) = record.as_ref().and_then(|r| r.config.as_ref()) {
        wanted.push((config.artifact.clone(), format!("config.{}", config.format)));
    }
    for (artifact, name) in wanted {
        if let Some(bytes) = optional(files, run, &artifact).await? {
            confined.write(&extras.join(&name), &bytes, 0o644)?;
            written.push(name);
        }
    }
    let v = &rebuilt.verification;
    let summary = json!({
        "run_id": run.to_string(),
        "to": dest.to_string_lossy(),
        "kind": manifest.kind,
        "checkout": rebuilt.checkout,
        "commit": manifest.git.as_ref().and_then(|g| g.commit.clone()),
        "files": manifest.files.len(),
        "identical": v.identical,
        "missing": v.missing,
        "differing": v.differing,
        "extra": v.extra,
        "skipped": v.skipped.iter().map(|(p, why)| json!({"path": p, "reason": why})).collect::<Vec<_>>(),
        "tree_sha256": v.tree_sha256,
        "captured_tree_sha256": manifest.tree_sha256,
        "matches": v.matches,
        "extras": written.iter().map(|n| format!("{EXTRAS_DIR}/{n}")).collect::<Vec<_>>(),
        "cwd": manifest.cwd,
        "notes": rebuilt.notes,
    });
    if !ctx.json {
        print_summary(&manifest, &rebuilt, dest, &written);
    }
    if !v.missing.is_empty() || !v.differing.is_empty() || !v.extra.is_empty() {
        bail!(
            "the restored tree in {} differs from the captured one: {} missing, {} different, {} extra{}",
            dest.display(),
            v.missing.len(),
            v.differing.len(),
            v.extra.len(),
            rebuilt
                .notes
                .first()
                .map_or_else(String::new, |n| format!(" ({n})"))
        );
    }
    Ok(summary)
}

fn print_summary(manifest: &Manifest, rebuilt: &tree::Rebuilt, dest: &Path, extras: &[String]) {
    let v = &rebuilt.verification;
    println!("Restored into {}", dest.display());
    match (
        &rebuilt.checkout,
        manifest.git.as_ref().and_then(|g| g.commit.as_ref()),
    ) {
        (Some(source), Some(commit)) => {
            println!("  commit {commit} checked out from {source}, working-tree changes applied");
        }
        (None, Some(commit)) => {
            println!("  from stored files (commit {commit} was not checked out)");
        }
        _ => println!("  from stored files"),
    }
    for note in &rebuilt.notes {
        println!("  note: {note}");
    }
    if v.matches {
        println!(
            "  verified: all {} files identical to the captured tree (sha256 {})",
            v.identical,
            &v.tree_sha256[..16]
        );
    } else {
        println!(
            "  verified: {} of {} files identical",
            v.identical,
            manifest.files.len()
        );
    }
    for (path, why) in &v.skipped {
        println!("  not restored (not stored at capture: {why}): {path}");
    }
    for path in &v.missing {
        println!("  missing: {path}");
    }
    for path in &v.differing {
        println!("  different: {path}");
    }
    for path in &v.extra {
        println!("  extra: {path}");
    }
    println!(
        "  run files: {}",
        extras
            .iter()
            .map(|n| format!("{EXTRAS_DIR}/{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// `runlore run rerun RUN [--set k=v]…`.
pub async fn rerun(ctx: &Ctx, args: RerunArgs) -> Result<()> {
    let original = crate::run::resolve_id(ctx, &args.id).await?;
    let files = RunFiles::open(ctx)?;
    let Some(record) = load_record(&files, &original).await? else {
        return Err(Error::invalid(format!(
            "run {original} was not started by `runlore exec`: there is no command to re-run"
        ))
        .into());
    };
    let Some(cwd_in_tree) = record.cwd_in_tree.clone() else {
        return Err(Error::invalid(format!(
            "run {original} has no code snapshot to re-run from"
        ))
        .into());
    };
    let dest = match &args.to {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "runlore-rerun-{}-{}",
            &original.as_str()[..8],
            runlore_core::time::now_ms()
        )),
    };
    // Checked before the restore, so a bad --set costs nothing.
    crate::exec::overrides::parse_all(&args.set)?;
    let quiet = Ctx {
        store: ctx.store.clone(),
        backend: ctx.backend.clone(),
        config: ctx.config.clone(),
        json: true,
    };
    restore_into(&quiet, &files, &original, &dest).await?;
    eprintln!("runlore: restored run {original} into {}", dest.display());
    // A folder of the restored tree, reached without following a link: the
    // command must not start (and snapshot) somewhere else.
    let cwd = confine::Confined::new(&dest)?.folder(Path::new(&cwd_in_tree))?;
    let base = match &record.config {
        Some(config) => {
            let Some(text) = optional(&files, &original, &config.artifact).await? else {
                return Err(Error::not_found("artifact", &config.artifact).into());
            };
            let format = if config.format == "json" {
                runlore_core::features_file::FeaturesFormat::Json
            } else {
                runlore_core::features_file::FeaturesFormat::Yaml
            };
            let tree = runlore_core::features_file::parse_features(
                &String::from_utf8_lossy(&text),
                format,
            )?;
            Some(Base::Tree {
                tree,
                label: format!(
                    "{} (resolved in run {original})",
                    config.base.clone().unwrap_or_default()
                ),
                format: config.format.clone(),
            })
        }
        None => None,
    };
    let run = ctx.store.get_run(&original).await?;
    let plan = Plan {
        argv: record.command(),
        cwd,
        base,
        sets: args.set,
        allow_new: args.allow_new,
        tags: args.tags,
        parents: vec![ParentLink {
            run_id: original.clone(),
            kind: EdgeKind::DerivedFrom,
            resume_step: None,
        }],
        experiment: Some(run.experiment.clone()),
        name: args.name,
        snapshot: true,
        log_interval: Duration::from_secs(5),
        rerun_of: Some(original),
    };
    let code = crate::exec::execute(ctx, plan).await?;
    Err(ChildExit(code).into())
}
