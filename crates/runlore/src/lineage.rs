//! `runlore lineage …` and `runlore gc`: what produced a file and from
//! what, W3C PROV export, integrity checks and garbage collection.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use runlore_core::artifact_service::{ArtifactService, GcOptions, VerifyTarget};
use runlore_core::lineage::{LineageScope, TraceDirection, VerifyReport};
use runlore_core::{Error, Sha256Hex};

use crate::artifact::{hash_file, service};
use crate::run::resolve_id;
use crate::{Ctx, output};

/// Exit code of `lineage verify` when any file is missing or altered.
pub const EXIT_VERIFY_FAILED: u8 = 6;

#[derive(Debug, Subcommand)]
pub enum LineageCommand {
    /// Which runs made and used a file: a SHA-256, RUN:PATH, or a local file
    Show { what: String },
    /// Follow a file upstream (what it was made from) or downstream (what
    /// was made from it), to any depth
    Trace {
        what: String,
        #[arg(long, default_value = "up", value_parser = ["up", "down"])]
        direction: String,
        /// Hops to follow
        #[arg(long, default_value_t = 100)]
        depth: u32,
    },
    /// Re-hash stored files: a run's, a project's (--project), a local
    /// file against what Runlore recorded, or (no argument) every blob;
    /// exits 6 naming each mismatch
    Verify {
        what: Option<String>,
        #[arg(long, conflicts_with = "what")]
        project: Option<String>,
    },
    /// A run's or a project's lineage as W3C PROV
    Export {
        /// A run id (or prefix), or a project name
        what: String,
        #[arg(long, default_value = "prov-json", value_parser = ["prov-json", "prov-n", "json"])]
        format: String,
        /// Write to FILE instead of standard output
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List entities (files), activities (runs) or agents of the project,
    /// optionally only those since a date
    Query {
        #[arg(long = "type", value_parser = ["entity", "activity", "agent"])]
        kind: String,
        /// YYYY-MM-DD or an RFC 3339 time
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Remove the unreferenced blobs (without it, only report)
    #[arg(long)]
    pub apply: bool,
    /// Spare unreferenced blobs younger than this (e.g. 30s, 10m, 1h, 2d)
    #[arg(long, default_value = "1h", value_parser = parse_age)]
    pub min_age: i64,
}

fn parse_age(text: &str) -> std::result::Result<i64, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not an age like 30s, 10m, 1h or 2d"))?;
    let ms = match unit {
        "s" | "" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("unknown unit in '{text}': use s, m, h or d")),
    };
    n.checked_mul(ms)
        .ok_or_else(|| format!("'{text}' is too long"))
}

/// A file named by hash, by `RUN:PATH`, or by a local path (hashed here).
async fn resolve_blob(ctx: &Ctx, service: &dyn ArtifactService, what: &str) -> Result<Sha256Hex> {
    if let Ok(sha) = Sha256Hex::parse(&what.to_ascii_lowercase()) {
        return Ok(sha);
    }
    let local = Path::new(what);
    if local.is_file() {
        return hash_file(local).await;
    }
    if let Some((run, path)) = what.split_once(':') {
        let run = resolve_id(ctx, run).await?;
        let found = service.list(&run, "").await?;
        if let Some(a) = found.iter().find(|a| a.path == path) {
            return Ok(a.sha256.clone());
        }
        return Err(Error::not_found("artifact", what).into());
    }
    Err(Error::invalid(format!(
        "'{what}' is neither a SHA-256, RUN:PATH, nor a file here"
    ))
    .into())
}

pub async fn run(ctx: &Ctx, command: LineageCommand) -> Result<()> {
    let service = service(ctx)?;
    match command {
        LineageCommand::Show { what } => {
            let sha = resolve_blob(ctx, service.as_ref(), &what).await?;
            let graph = service.lineage(LineageScope::Blob(sha)).await?;
            crate::lineage_print::graph(ctx, &graph)
        }
        LineageCommand::Trace {
            what,
            direction,
            depth,
        } => {
            let sha256 = resolve_blob(ctx, service.as_ref(), &what).await?;
            let direction = TraceDirection::parse(&direction)?;
            let graph = service
                .lineage(LineageScope::Trace {
                    sha256,
                    direction,
                    depth,
                })
                .await?;
            crate::lineage_print::graph(ctx, &graph)
        }
        LineageCommand::Verify { what, project } => {
            let report = verify(ctx, &service, what, project).await?;
            crate::lineage_print::verify(ctx, &report)?;
            if report.problems.is_empty() {
                Ok(())
            } else {
                Err(VerifyFailed(report.problems.len()).into())
            }
        }
        LineageCommand::Export {
            what,
            format,
            output,
        } => {
            let scope = match resolve_id(ctx, &what).await {
                Ok(run) => LineageScope::Run(run),
                Err(_) => LineageScope::Project(what),
            };
            let graph = service.lineage(scope).await?;
            let text = match format.as_str() {
                "prov-n" => runlore_core::prov::to_prov_n(&graph),
                "json" => serde_json::to_string_pretty(&graph)? + "\n",
                _ => {
                    serde_json::to_string_pretty(&runlore_core::prov::to_prov_json(&graph))? + "\n"
                }
            };
            match output {
                Some(path) => std::fs::write(&path, text)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display())),
                None => output::println_flush(text.trim_end()),
            }
        }
        LineageCommand::Query { kind, since } => {
            let since = since.as_deref().map(parse_since).transpose()?;
            let graph = service
                .lineage(LineageScope::Project(ctx.project().to_owned()))
                .await?;
            crate::lineage_print::query(ctx, &graph, &kind, since)
        }
    }
}

async fn verify(
    ctx: &Ctx,
    service: &Arc<dyn ArtifactService>,
    what: Option<String>,
    project: Option<String>,
) -> Result<VerifyReport> {
    let target = match (what, project) {
        (None, None) => VerifyTarget::All,
        (None, Some(project)) => VerifyTarget::Project(project),
        (Some(what), _) => {
            let local = Path::new(&what);
            if local.is_file() {
                // A local file: does Runlore know these exact bytes?
                let sha = hash_file(local).await?;
                let known = service.lineage(LineageScope::Blob(sha.clone())).await;
                return match known {
                    Ok(graph) => {
                        if !ctx.json {
                            println!("{what}: sha256 {sha} is known to Runlore");
                        }
                        service
                            .verify(VerifyTarget::Blob(graph.entities[0].sha256.clone()))
                            .await
                            .map_err(Into::into)
                    }
                    Err(e) if e.kind() == runlore_core::ErrorKind::NotFound => bail!(
                        "{what} has sha256 {sha}, which no run recorded: it changed, or was never logged"
                    ),
                    Err(e) => Err(e.into()),
                };
            }
            match Sha256Hex::parse(&what.to_ascii_lowercase()) {
                Ok(sha) => VerifyTarget::Blob(sha),
                Err(_) => VerifyTarget::Run(resolve_id(ctx, &what).await?),
            }
        }
    };
    Ok(service.verify(target).await?)
}

/// `--since 2026-11-01` or an RFC 3339 time, as ms since the epoch.
fn parse_since(text: &str) -> Result<i64> {
    use time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(text, &Rfc3339).or_else(|_| {
        time::Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(|d| d.midnight().assume_utc())
    });
    match parsed {
        Ok(t) => Ok(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)),
        Err(_) => Err(Error::invalid(format!(
            "--since '{text}' is not a date (YYYY-MM-DD) or an RFC 3339 time"
        ))
        .into()),
    }
}

pub async fn gc(ctx: &Ctx, args: GcArgs) -> Result<()> {
    let service = service(ctx)?;
    let report = service
        .gc(GcOptions {
            apply: args.apply,
            min_age_ms: args.min_age,
        })
        .await?;
    crate::lineage_print::gc(ctx, &report)
}

/// `lineage verify` found problems: printed already; this sets the exit
/// code.
#[derive(Debug)]
pub struct VerifyFailed(pub usize);

impl std::fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} file(s) failed verification", self.0)
    }
}

impl std::error::Error for VerifyFailed {}
