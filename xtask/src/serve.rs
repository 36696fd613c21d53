//! `cargo xtask serve`: build the UI, then the release binary (which embeds
//! ui/dist), then run the server in the foreground on the embedded default
//! store (./runlore-data).

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::{build_release_binary, describe, root, target_dir};

pub fn run(extra: &[String]) -> Result<()> {
    if crate::ui::build()?.is_some() {
        crate::ui::mark_embed_stale(&target_dir().join("release").join("runlore"))?;
    }
    let binary = build_release_binary()?;
    let mut cmd = Command::new(binary);
    cmd.current_dir(root()).arg("server");
    cmd.args(extra);
    eprintln!("xtask> {}", describe(&cmd));
    // Ctrl-C reaches the server directly (same process group); it shuts
    // down gracefully and we report how it ended.
    let status = cmd.status().context("cannot start the runlore server")?;
    if !status.success() && status.code().is_some() {
        bail!("runlore server exited with {status}");
    }
    Ok(())
}
