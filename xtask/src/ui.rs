//! The web UI build: `npm ci` then `npm run build` (type check + vite
//! build) in ui/, when ui/ exists. The server embeds ui/dist with
//! rust-embed.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use crate::process::{available, root, run};

/// Builds the UI and returns its output folder, or `None` when the
/// repository has no UI.
pub fn build() -> Result<Option<PathBuf>> {
    let ui = root().join("ui");
    if !ui.join("package.json").exists() {
        eprintln!("xtask> no ui/package.json: serving the API only");
        return Ok(None);
    }
    npm_ci()?;
    run(Command::new("npm").args(["run", "build"]).current_dir(&ui))?;
    Ok(Some(ui.join("dist")))
}

/// `npm ci` in ui/ (exact versions from ui/package-lock.json).
pub fn npm_ci() -> Result<()> {
    if !available("npm") {
        bail!("building the UI needs Node.js (20.19 or newer) and npm on PATH");
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(root().join("ui")))
}

/// rust-embed reads ui/dist when the server crate compiles, but cargo only
/// tracks the files it found then: a UI built after the last compile (say
/// into a folder that did not exist) would not reach the binary. Touching
/// the embedding module makes cargo compile it again when the UI is newer.
pub fn mark_embed_stale(binary: &std::path::Path) -> Result<()> {
    let index = root().join("ui").join("dist").join("index.html");
    let built = |p: &std::path::Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let (Some(ui_time), binary_time) = (built(&index), built(binary)) else {
        return Ok(());
    };
    if binary_time.is_some_and(|b| b >= ui_time) {
        return Ok(());
    }
    let module = root().join("crates/runlore-server/src/ui.rs");
    fs::File::options()
        .append(true)
        .open(&module)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .with_context(|| format!("cannot touch {}", module.display()))
}
