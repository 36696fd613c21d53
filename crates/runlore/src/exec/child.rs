//! Running the command: its output copied to the terminal and into log
//! files as it comes, the logs uploaded every few seconds while it runs
//! (so `GET …/artifacts/logs/stdout.log` shows a live run) and once more at
//! the end, and SIGTERM passed on to it.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use runlore_core::RunId;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use super::record::{STDERR_PATH, STDOUT_PATH};
use crate::run_files::RunFiles;

/// While running, a log upload holds at most this much: the first MiB and
/// the latest bytes, which is what someone watching needs.
const LIVE_LIMIT: u64 = 4 << 20;
/// The final upload keeps up to this much, cut the same way beyond it.
const FINAL_LIMIT: u64 = 256 << 20;
const HEAD_BYTES: u64 = 1 << 20;

pub struct Outcome {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The command could not be started (not found, not executable).
    pub spawn_error: Option<String>,
    /// The final upload of both logs reached the store.
    pub logs_stored: bool,
}

pub struct Spec<'a> {
    pub argv: &'a [std::ffi::OsString],
    pub cwd: &'a Path,
    pub env: Vec<(String, String)>,
    pub log_dir: &'a Path,
    pub interval: Duration,
}

pub async fn run(files: &RunFiles, run: &RunId, spec: Spec<'_>) -> Result<Outcome> {
    let (program, args) = spec
        .argv
        .split_first()
        .context("no command given after --")?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .current_dir(spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Ok(Outcome {
                exit_code: None,
                signal: None,
                spawn_error: Some(format!("cannot start '{}': {e}", program.to_string_lossy())),
                logs_stored: true,
            });
        }
    };
    let out_path = spec.log_dir.join("stdout.log");
    let err_path = spec.log_dir.join("stderr.log");
    let stdout = child.stdout.take().context("child stdout")?;
    let stderr = child.stderr.take().context("child stderr")?;
    let pumps = [
        tokio::spawn(pump(
            stdout,
            Box::new(tokio::io::stdout()),
            out_path.clone(),
        )),
        tokio::spawn(pump(
            stderr,
            Box::new(tokio::io::stderr()),
            err_path.clone(),
        )),
    ];
    let logs = [(out_path, STDOUT_PATH), (err_path, STDERR_PATH)];
    let mut sent = [0u64; 2];
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch SIGTERM")?;
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot watch SIGINT")?;
    let mut tick = tokio::time::interval(spec.interval);
    tick.tick().await;
    let (mut terms, mut interrupts) = (0u32, 0u32);
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.context("waiting for the command")?,
            // Offline, every upload would be one more copy in the journal:
            // only the final one is kept.
            _ = tick.tick(), if !files.offline() => {
                upload_grown(files, run, &logs, &mut sent, LIVE_LIMIT).await;
            }
            _ = terminate.recv() => {
                terms += 1;
                forward(child.id(), if terms == 1 { "TERM" } else { "KILL" });
            }
            // Ctrl-C reaches the command itself (same process group), so
            // the first is not passed on; runlore stays to record the end.
            // Pressed again, the command is asked harder to stop.
            _ = interrupt.recv() => {
                interrupts += 1;
                match interrupts {
                    1 => {}
                    2 => forward(child.id(), "TERM"),
                    _ => forward(child.id(), "KILL"),
                }
            }
        }
    };
    // A grandchild may hold the pipes open; its output is not waited for long.
    for pump in pumps {
        let _ = tokio::time::timeout(Duration::from_secs(5), pump).await;
    }
    sent = [u64::MAX; 2];
    let logs_stored = upload_grown(files, run, &logs, &mut sent, FINAL_LIMIT).await;
    Ok(Outcome {
        exit_code: status.code(),
        signal: status.signal(),
        spawn_error: None,
        logs_stored,
    })
}

fn forward(pid: Option<u32>, signal: &str) {
    if let Some(pid) = pid {
        let _ = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status();
    }
}

/// Copies a stream to the terminal and a file. A terminal that went away
/// (closed pipe) does not stop the copy to the file.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut terminal: Box<dyn AsyncWrite + Unpin + Send>,
    path: PathBuf,
) -> Result<()> {
    let mut file = tokio::fs::File::create(&path)
        .await
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut terminal_ok = true;
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if terminal_ok {
            terminal_ok =
                terminal.write_all(&buf[..n]).await.is_ok() && terminal.flush().await.is_ok();
        }
        file.write_all(&buf[..n]).await?;
        file.flush().await?;
    }
    file.sync_all().await?;
    Ok(())
}

/// Uploads each log that grew since its last upload (`u64::MAX`: always);
/// false when one could not be stored. A failed upload is reported, not
/// fatal: the command keeps running and the final upload tries again.
async fn upload_grown(
    files: &RunFiles,
    run: &RunId,
    logs: &[(PathBuf, &str); 2],
    sent: &mut [u64; 2],
    limit: u64,
) -> bool {
    let mut all = true;
    for (i, (path, artifact)) in logs.iter().enumerate() {
        let Ok(meta) = tokio::fs::metadata(path).await else {
            continue;
        };
        if sent[i] != u64::MAX && meta.len() == sent[i] {
            continue;
        }
        match bounded(path, meta.len(), limit).await {
            Ok(bytes) => match files.put(run, artifact, bytes).await {
                Ok(_) => sent[i] = meta.len(),
                Err(e) => {
                    all = false;
                    eprintln!("runlore: cannot upload {artifact}: {e}");
                }
            },
            Err(e) => {
                all = false;
                eprintln!("runlore: cannot read {}: {e:#}", path.display());
            }
        }
    }
    all
}

/// The file, or its head and tail around a note when it is over `limit`.
async fn bounded(path: &Path, len: u64, limit: u64) -> Result<Bytes> {
    let mut file = tokio::fs::File::open(path).await?;
    let head_len = if len > limit { HEAD_BYTES } else { len };
    let mut head = vec![0u8; usize::try_from(head_len)?];
    file.read_exact(&mut head).await?;
    if len <= limit {
        return Ok(Bytes::from(head));
    }
    let tail_len = limit - HEAD_BYTES;
    let skipped = len - HEAD_BYTES - tail_len;
    file.seek(std::io::SeekFrom::Start(len - tail_len)).await?;
    let mut tail = vec![0u8; usize::try_from(tail_len)?];
    file.read_exact(&mut tail).await?;
    head.extend_from_slice(
        format!("\n[runlore: {skipped} bytes left out of this log here]\n").as_bytes(),
    );
    head.extend_from_slice(&tail);
    Ok(Bytes::from(head))
}
