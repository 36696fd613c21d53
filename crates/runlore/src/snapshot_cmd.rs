//! `runlore run snapshot RUN [--dir DIR]`: the code snapshot `runlore exec`
//! takes, for a run made some other way. The Python SDK starts it in the
//! background at `init`, so SDK runs restore with `run restore --to` too.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use runlore_core::{Error, ErrorKind, RunId};

use crate::run_files::RunFiles;
use crate::{Ctx, output, snapshot};

/// How often to look for a run that does not exist yet.
const POLL: Duration = Duration::from_millis(250);

pub async fn run(ctx: &Ctx, id: &str, dir: Option<&Path>, wait_s: u64) -> Result<()> {
    let policy = snapshot::load_policy(ctx.config.file.as_deref())
        .map_err(|e| Error::invalid(format!("{e:#}")))?;
    let run = wait_for_run(ctx, id, Duration::from_secs(wait_s)).await?;
    let cwd = match dir {
        Some(dir) => dir.to_owned(),
        None => std::env::current_dir()?,
    };
    let skip = vec![ctx.config.data_dir.value.clone()];
    let mut captured =
        tokio::task::spawn_blocking(move || snapshot::capture(&cwd, &policy, &skip)).await??;
    let files = RunFiles::open(ctx)?;
    snapshot::upload(&files, &run, &mut captured).await?;
    let m = &captured.manifest;
    if ctx.json {
        return output::print_json(&serde_json::json!({
            "run": run,
            "files": m.files.len(),
            "stored_files": m.stored_files,
            "stored_bytes": m.stored_bytes,
            "tree_sha256": m.tree_sha256,
        }));
    }
    output::println_flush(&format!(
        "Run {run}: snapshot of {} file(s), {} stored ({} bytes), tree {}",
        m.files.len(),
        m.stored_files,
        m.stored_bytes,
        &m.tree_sha256[..12]
    ))
}

/// The run, once it exists: the SDK ships its creation in the background,
/// so the snapshot may start first. Only a full run id can be waited for.
async fn wait_for_run(ctx: &Ctx, id: &str, wait: Duration) -> Result<RunId> {
    let started = Instant::now();
    loop {
        match crate::run::resolve_id(ctx, id).await {
            Ok(run) => return Ok(run),
            Err(e) if started.elapsed() < wait && is_not_found(&e) => {
                tokio::time::sleep(POLL).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_not_found(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<Error>())
        .any(|e| e.kind() == ErrorKind::NotFound)
}
