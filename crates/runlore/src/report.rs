//! `runlore run report RUN`: a run's REPORT.md (see
//! [`runlore_core::repro::report`], which the server's
//! `GET /api/v1/runs/{id}/report` shares). `runlore exec` also stores one as
//! the artifact `REPORT.md` when a run ends; `--save` does the same for any
//! run.

use std::path::Path;

use anyhow::{Context, Result};
use bytes::Bytes;
use runlore_core::RunId;

use crate::Ctx;
use crate::run_files::RunFiles;

pub use runlore_core::repro::REPORT_PATH;

pub async fn run(ctx: &Ctx, id: &str, output: Option<&Path>, save: bool) -> Result<()> {
    let run = crate::run::resolve_id(ctx, id).await?;
    let files = RunFiles::open(ctx)?;
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
    Ok(runlore_core::repro::report::report(ctx.store.as_ref(), files.service()?, id).await?)
}
