//! `runlore run report RUN`: a run's REPORT.md, written for a person who
//! was not there: what ran, with which config, from which code, what came
//! out (metrics, components, artifacts), and how to get it back.
//! `runlore exec` stores one as the artifact `REPORT.md` when a run ends, so
//! the API serves it (`GET /api/v1/runs/{id}/artifacts/REPORT.md`).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use bytes::Bytes;
use runlore_core::store::MetricRange;
use runlore_core::{ComponentStatus, RunId};

use crate::Ctx;
use crate::output::{number, optional_time};
use crate::run_files::RunFiles;
use crate::snapshot::{CODE_PREFIX, Kind, Manifest};

pub const REPORT_PATH: &str = "REPORT.md";
/// Skipped files listed by name at most; the manifest has them all.
const MAX_LISTED: usize = 20;

pub async fn run(ctx: &Ctx, id: &str, output: Option<&Path>, save: bool) -> Result<()> {
    let run = crate::run::resolve_id(ctx, id).await?;
    let files = RunFiles::open(&ctx.config)?;
    let text = generate(ctx, &files, &run).await?;
    if save {
        files
            .put(&run, REPORT_PATH, Bytes::from(text.clone()))
            .await?;
    }
    match output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

pub async fn generate(ctx: &Ctx, files: &RunFiles, id: &RunId) -> Result<String> {
    let run = ctx.store.get_run(id).await?;
    let features = ctx.store.run_features(id).await?;
    let record = crate::restore::load_record(files, id).await?;
    let manifest = crate::restore::load_manifest(files, id).await.ok();
    let listing = files.list(id, "").await?;
    let mut md = String::new();
    let w = &mut md;
    writeln!(w, "# Run {} (`{}`)\n", run.name, run.id)?;
    writeln!(w, "| | |\n|---|---|")?;
    writeln!(
        w,
        "| project / experiment | {} / {} |",
        run.project, run.experiment
    )?;
    writeln!(w, "| status | {} |", run.status.as_str())?;
    writeln!(w, "| user | {} |", run.user)?;
    writeln!(w, "| start (UTC) | {} |", optional_time(run.start_time))?;
    writeln!(w, "| end (UTC) | {} |", optional_time(run.end_time))?;
    if let (Some(start), Some(end)) = (run.start_time, run.end_time) {
        writeln!(w, "| duration | {} |", crate::output::duration(end - start))?;
    }
    let tags: Vec<String> = run
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("runlore.") && !k.starts_with("mlflow."))
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    if !tags.is_empty() {
        writeln!(w, "| tags | {} |", one_line(&tags.join(", ")))?;
    }
    if let Some(error) = run.tags.get("runlore.error") {
        writeln!(w, "| error | {} |", one_line(error))?;
    }

    writeln!(w, "\n## What ran\n")?;
    match &record {
        Some(r) => {
            let command = crate::exec::record::shell_join(&r.argv);
            writeln!(w, "```sh\n{command}\n```\n")?;
            writeln!(w, "- working directory: `{}`", r.cwd)?;
            let ending = match (r.exit_code, r.signal) {
                (Some(c), _) => format!("exit code {c}"),
                (None, Some(s)) => format!("killed by signal {s}"),
                _ => "did not end normally".to_owned(),
            };
            writeln!(w, "- ended: {ending}")?;
            if let Some(of) = &r.rerun_of {
                writeln!(w, "- a re-run of `{of}`")?;
            }
            for e in &r.capture_errors {
                writeln!(w, "- not captured: {}", one_line(e))?;
            }
        }
        None => writeln!(w, "Not started by `runlore exec`: no command recorded.")?,
    }

    writeln!(w, "\n## Config\n")?;
    if let Some(config) = record.as_ref().and_then(|r| r.config.as_ref()) {
        let base = config.base.as_deref().unwrap_or("(none)");
        writeln!(w, "- base: `{base}`")?;
        for o in &config.overrides {
            writeln!(w, "- override: `{}={}`", o.key, o.value)?;
        }
        writeln!(w, "- resolved: artifact `{}`", config.artifact)?;
    }
    if features.full.as_object().is_some_and(|m| !m.is_empty()) {
        let yaml = yaml_serde::to_string(&features.full)?;
        writeln!(w, "\n```yaml\n{}```", yaml)?;
    } else {
        writeln!(w, "No features.")?;
    }

    writeln!(w, "\n## Provenance\n")?;
    for parent in &features.parents {
        writeln!(w, "- {} `{}`", parent.kind.as_str(), parent.run_id)?;
    }
    match &manifest {
        Some(m) => provenance(w, m, &run.id)?,
        None => writeln!(w, "- no code snapshot")?,
    }
    if let Some(env) = run.tags.get("runlore.environment")
        && let Ok(doc) = serde_json::from_str::<serde_json::Value>(env)
    {
        let python = doc["python"]["version"].as_str().unwrap_or("-");
        writeln!(
            w,
            "- environment: {} {}, Python {python}; rebuild it with `runlore run env {} --build DIR`",
            doc["os"].as_str().unwrap_or("?"),
            doc["arch"].as_str().unwrap_or("?"),
            run.id
        )?;
    }

    writeln!(w, "\n## Metrics\n")?;
    if run.metrics.is_empty() {
        writeln!(w, "None logged.")?;
    } else {
        writeln!(
            w,
            "| metric | last | step | min | max | points |\n|---|---|---|---|---|---|"
        )?;
        for m in &run.metrics {
            let range = MetricRange {
                key: m.key.clone(),
                start_step: None,
                end_step: None,
            };
            let history = ctx.store.metric_history(id, range).await?;
            let values = history.iter().map(|p| p.value.0).filter(|v| !v.is_nan());
            let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} |",
                m.key,
                number(m.value.0),
                m.step,
                number(min),
                number(max),
                history.len()
            )?;
        }
    }

    writeln!(w, "\n## Components\n")?;
    if run.components.is_empty() {
        writeln!(w, "None reported.")?;
    }
    for c in &run.components {
        let line = match c.status {
            ComponentStatus::Success => format!("- **{}**: success", c.name),
            ComponentStatus::Disabled => format!(
                "- **{}**: disabled: {} (to enable it, undo what the reason names)",
                c.name,
                one_line(&c.reason)
            ),
            ComponentStatus::Failed => format!("- **{}**: failed: {}", c.name, one_line(&c.reason)),
        };
        writeln!(w, "{line}")?;
    }

    writeln!(w, "\n## Artifacts\n")?;
    let code: Vec<_> = listing
        .iter()
        .filter(|f| f.path.starts_with(&format!("{CODE_PREFIX}/")))
        .collect();
    let others: Vec<_> = listing
        .iter()
        .filter(|f| !f.path.starts_with(&format!("{CODE_PREFIX}/")))
        .collect();
    for f in &others {
        writeln!(w, "- `{}` ({} bytes)", f.path, f.size)?;
    }
    if !code.is_empty() {
        let bytes: u64 = code.iter().map(|f| f.size).sum();
        writeln!(
            w,
            "- `{CODE_PREFIX}/`: {} file(s), {bytes} bytes (the code snapshot)",
            code.len()
        )?;
    }
    if listing.is_empty() {
        writeln!(w, "None.")?;
    }
    Ok(md)
}

fn provenance(w: &mut String, m: &Manifest, run: &RunId) -> Result<()> {
    if let (Kind::Git, Some(git)) = (m.kind, &m.git) {
        writeln!(
            w,
            "- git: commit `{}` on branch `{}`, remote `{}`, {}{}",
            git.commit.as_deref().unwrap_or("(no commit yet)"),
            git.branch.as_deref().unwrap_or("-"),
            git.remote.as_deref().unwrap_or("-"),
            if git.dirty { "dirty" } else { "clean" },
            if git.pushed {
                ""
            } else {
                ", commit not on any remote"
            }
        )?;
    } else {
        writeln!(w, "- code: a plain folder (`{}`), no git", m.root)?;
    }
    writeln!(
        w,
        "- snapshot: {} file(s), {} stored ({} bytes), {} excluded by the policy, {} deleted from the commit; tree sha256 `{}`",
        m.files.len(),
        m.stored_files,
        m.stored_bytes,
        m.excluded,
        m.deleted.len(),
        m.tree_sha256
    )?;
    let skipped: Vec<_> = m.files.iter().filter(|f| f.skipped.is_some()).collect();
    for f in skipped.iter().take(MAX_LISTED) {
        writeln!(
            w,
            "  - recorded by hash only: `{}` ({}; sha256 `{}`)",
            f.path,
            f.skipped.as_deref().unwrap_or(""),
            f.sha256
        )?;
    }
    if skipped.len() > MAX_LISTED {
        writeln!(
            w,
            "  - … and {} more (see the manifest)",
            skipped.len() - MAX_LISTED
        )?;
    }
    for note in &m.notes {
        writeln!(w, "  - {note}")?;
    }
    writeln!(
        w,
        "- restore it: `runlore run restore {run} --to DIR`; re-run it: `runlore run rerun {run}`"
    )?;
    Ok(())
}

/// The first line, shortened, with `|` escaped so it fits a table cell.
fn one_line(text: &str) -> String {
    let line: String = text
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    line.replace('|', r"\|")
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_fits_a_table_cell() {
        assert_eq!(super::one_line("a|b\nsecond line"), r"a\|b");
    }
}
