//! The sections of REPORT.md, each written from the gathered records.

use std::fmt::Write as _;

use serde_json::Value;

use super::ReportInputs;
use super::markdown::{code as code_span, fenced, text};
use crate::repro::display::{duration, number, optional_time};
use crate::repro::record::shell_join;
use crate::repro::{CODE_PREFIX, Kind, Manifest};
use crate::{Artifact, ArtifactDirection, ComponentStatus, MetricSummary, Run, RunId};

/// Skipped files listed by name at most; the manifest has them all.
const MAX_LISTED: usize = 20;

type Out<'a> = &'a mut String;

pub(super) fn overview(w: Out, run: &Run) -> std::fmt::Result {
    writeln!(w, "# Run {} (`{}`)\n", text(&run.name), run.id)?;
    writeln!(w, "| | |\n|---|---|")?;
    writeln!(
        w,
        "| project / experiment | {} / {} |",
        text(&run.project),
        text(&run.experiment)
    )?;
    writeln!(w, "| status | {} |", run.status.as_str())?;
    writeln!(w, "| user | {} |", text(&run.user))?;
    writeln!(w, "| start (UTC) | {} |", optional_time(run.start_time))?;
    writeln!(w, "| end (UTC) | {} |", optional_time(run.end_time))?;
    if let (Some(start), Some(end)) = (run.start_time, run.end_time) {
        writeln!(w, "| duration | {} |", duration(end - start))?;
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
        writeln!(w, "| tags | {} |", text(&tags.join(", ")))?;
    }
    if let Some(error) = run.tags.get("runlore.error") {
        writeln!(w, "| error | {} |", text(error))?;
    }
    Ok(())
}

/// The run's environment tag (from `runlore exec` or the SDK), if readable.
fn environment(run: &Run) -> Option<Value> {
    run.tags
        .get("runlore.environment")
        .and_then(|text| serde_json::from_str(text).ok())
}

pub(super) fn what_ran(w: Out, inputs: &ReportInputs) -> std::fmt::Result {
    writeln!(w, "\n## What ran\n")?;
    if let Some(r) = &inputs.record {
        writeln!(w, "{}\n", fenced("sh", &shell_join(&r.argv)))?;
        writeln!(w, "- working directory: {}", code_span(&r.cwd))?;
        let ending = match (r.exit_code, r.signal) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "did not end normally".to_owned(),
        };
        writeln!(w, "- ended: {ending}")?;
        if let Some(of) = &r.rerun_of {
            writeln!(w, "- a re-run of {}", code_span(of))?;
        }
        for e in &r.capture_errors {
            writeln!(w, "- not captured: {}", text(e))?;
        }
        return Ok(());
    }
    // Runs logged from Python record the command in their environment.
    let env = environment(&inputs.run);
    let command: Option<Vec<String>> =
        env.as_ref().and_then(|e| e["command"].as_array()).map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or("?").to_owned())
                .collect()
        });
    match command {
        Some(argv) => {
            writeln!(w, "{}\n", fenced("sh", &shell_join(&argv)))?;
            if let Some(cwd) = env.as_ref().and_then(|e| e["cwd"].as_str()) {
                writeln!(w, "- working directory: {}", code_span(cwd))?;
            }
            writeln!(
                w,
                "- logged from Python; `runlore exec -- COMMAND` also records the exit code and the logs"
            )?;
        }
        None => match inputs.run.tags.get("mlflow.source.name") {
            Some(source) => writeln!(w, "- source: {}", code_span(source))?,
            None => writeln!(w, "No command recorded.")?,
        },
    }
    Ok(())
}

pub(super) fn config(w: Out, inputs: &ReportInputs) -> std::fmt::Result {
    writeln!(w, "\n## Config\n")?;
    if let Some(config) = inputs.record.as_ref().and_then(|r| r.config.as_ref()) {
        let base = config.base.as_deref().unwrap_or("(none)");
        writeln!(w, "- base: {}", code_span(base))?;
        for o in &config.overrides {
            writeln!(
                w,
                "- override: {}",
                code_span(&format!("{}={}", o.key, o.value))
            )?;
        }
        writeln!(w, "- resolved: artifact {}", code_span(&config.artifact))?;
    }
    let features = &inputs.features.full;
    match yaml_serde::to_string(features) {
        Ok(yaml) if features.as_object().is_some_and(|m| !m.is_empty()) => {
            writeln!(w, "\n{}", fenced("yaml", &yaml))?;
        }
        _ => writeln!(w, "No features.")?,
    }
    if !inputs.run.params.is_empty() {
        writeln!(w, "\n| param | value |\n|---|---|")?;
        for (key, value) in &inputs.run.params {
            writeln!(w, "| {} | {} |", text(key), text(value))?;
        }
    }
    Ok(())
}

pub(super) fn provenance(w: Out, inputs: &ReportInputs) -> std::fmt::Result {
    writeln!(w, "\n## Provenance\n")?;
    let run = &inputs.run;
    for parent in &inputs.features.parents {
        writeln!(w, "- {} `{}`", parent.kind.as_str(), parent.run_id)?;
    }
    for input in &run.inputs {
        writeln!(
            w,
            "- used dataset {} (digest {}, {} {})",
            code_span(&input.name),
            code_span(&input.digest),
            text(&input.source_type),
            code_span(&input.source)
        )?;
    }
    match &inputs.manifest {
        Some(m) => code(w, m, &run.id)?,
        None => writeln!(w, "- no code snapshot")?,
    }
    if let Some(doc) = environment(run) {
        let python = doc["python"]["version"]
            .as_str()
            .or_else(|| doc["python"].as_str())
            .unwrap_or("-");
        writeln!(
            w,
            "- environment: {} {}, Python {}; rebuild it with `runlore run env {} --build DIR`",
            text(doc["os"].as_str().unwrap_or("?")),
            text(doc["arch"].as_str().unwrap_or("")),
            text(python),
            run.id
        )?;
        if let Some(gpus) = doc["gpus"].as_array().filter(|g| !g.is_empty()) {
            let names: Vec<&str> = gpus.iter().filter_map(|g| g["name"].as_str()).collect();
            writeln!(w, "- GPUs: {}", text(&names.join(", ")))?;
        }
    }
    Ok(())
}

fn code(w: Out, m: &Manifest, run: &RunId) -> std::fmt::Result {
    if let (Kind::Git, Some(git)) = (m.kind, &m.git) {
        writeln!(
            w,
            "- git: commit {} on branch {}, remote {}, {}{}",
            code_span(git.commit.as_deref().unwrap_or("(no commit yet)")),
            code_span(git.branch.as_deref().unwrap_or("-")),
            code_span(git.remote.as_deref().unwrap_or("-")),
            if git.dirty { "dirty" } else { "clean" },
            if git.pushed {
                ""
            } else {
                ", commit not on any remote"
            }
        )?;
    } else {
        writeln!(w, "- code: a plain folder ({}), no git", code_span(&m.root))?;
    }
    writeln!(
        w,
        "- snapshot: {} file(s), {} stored ({} bytes), {} excluded by the policy, {} deleted from the commit; tree sha256 {}",
        m.files.len(),
        m.stored_files,
        m.stored_bytes,
        m.excluded,
        m.deleted.len(),
        code_span(&m.tree_sha256)
    )?;
    let skipped: Vec<_> = m.files.iter().filter(|f| f.skipped.is_some()).collect();
    for f in skipped.iter().take(MAX_LISTED) {
        writeln!(
            w,
            "  - recorded by hash only: {} ({}; sha256 {})",
            code_span(&f.path),
            text(f.skipped.as_deref().unwrap_or("")),
            code_span(&f.sha256)
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
        writeln!(w, "  - {}", text(note))?;
    }
    writeln!(
        w,
        "- restore it: `runlore run restore {run} --to DIR`; re-run it: `runlore run rerun {run}`"
    )
}

pub(super) fn metrics(w: Out, run: &Run, summaries: &[MetricSummary]) -> std::fmt::Result {
    writeln!(w, "\n## Metrics\n")?;
    if run.metrics.is_empty() {
        return writeln!(w, "None logged.");
    }
    writeln!(
        w,
        "| metric | last | step | min | max | mean | finite points |\n|---|---|---|---|---|---|---|"
    )?;
    let or_dash = |v: Option<f64>| v.map(number).unwrap_or_else(|| "-".to_owned());
    for m in &run.metrics {
        let s = summaries.iter().find(|s| s.key == m.key);
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            text(&m.key),
            number(m.value.0),
            m.step,
            or_dash(s.and_then(|s| s.min)),
            or_dash(s.and_then(|s| s.max)),
            or_dash(s.and_then(|s| s.mean)),
            s.map_or(0, |s| s.count)
        )?;
    }
    Ok(())
}

pub(super) fn components(w: Out, run: &Run) -> std::fmt::Result {
    writeln!(w, "\n## Components\n")?;
    if run.components.is_empty() {
        return writeln!(w, "None reported.");
    }
    for c in &run.components {
        match c.status {
            ComponentStatus::Success => writeln!(w, "- **{}**: success", text(&c.name))?,
            ComponentStatus::Disabled => writeln!(
                w,
                "- **{}**: disabled: {} (to enable it, undo what the reason names)",
                text(&c.name),
                text(&c.reason)
            )?,
            ComponentStatus::Failed => {
                writeln!(w, "- **{}**: failed: {}", text(&c.name), text(&c.reason))?;
            }
        }
    }
    Ok(())
}

pub(super) fn artifacts(w: Out, listing: &[Artifact]) -> std::fmt::Result {
    writeln!(w, "\n## Artifacts\n")?;
    if listing.is_empty() {
        return writeln!(w, "None.");
    }
    let prefix = format!("{CODE_PREFIX}/");
    let (code, others): (Vec<&Artifact>, Vec<&Artifact>) =
        listing.iter().partition(|f| f.path.starts_with(&prefix));
    for f in &others {
        let used = if f.direction == ArtifactDirection::Input {
            "used as input, "
        } else {
            ""
        };
        writeln!(
            w,
            "- {} ({used}{} bytes, sha256 `{}`)",
            code_span(&f.path),
            f.size,
            short_hash(f.sha256.as_str())
        )?;
    }
    if !code.is_empty() {
        let bytes: u64 = code.iter().map(|f| f.size).sum();
        writeln!(
            w,
            "- `{prefix}`: {} file(s), {bytes} bytes (the code snapshot)",
            code.len()
        )?;
    }
    Ok(())
}

fn short_hash(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}
