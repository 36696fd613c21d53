//! Artifact workloads: streaming upload and download of one big file over
//! loopback against the disk's own speed, and a lineage trace through a
//! chain of runs, each reading the previous run's output.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Sizes;
use super::http::Api;
use super::workloads::{median_of, row};

fn mb_per_s(bytes: u64, took: Duration) -> String {
    format!("{:.0} MB/s", bytes as f64 / 1e6 / took.as_secs_f64())
}

/// Writes `len` incompressible bytes (xorshift) and returns their SHA-256.
fn write_noise(path: &Path, len: u64) -> Result<String> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut hasher = Sha256::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut block = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n])?;
        hasher.update(&block[..n]);
        left -= n as u64;
    }
    file.flush()?;
    Ok(hex::encode(hasher.finalize()))
}

/// The disk's own speed for the same bytes: a copy and fsync, as the blob
/// store writes (hash-while-writing excluded, which the server also does).
fn disk_copy(from: &Path, to: &Path) -> Result<Duration> {
    let start = Instant::now();
    std::fs::copy(from, to)?;
    std::fs::File::open(to)?.sync_all()?;
    Ok(start.elapsed())
}

pub async fn rows(api: &Api, url: &str, sizes: &Sizes, dir: &Path) -> Result<Vec<String>> {
    let mut rows = Vec::new();
    let len = sizes.artifact_bytes;
    let file = dir.join("big.bin");
    let sha = write_noise(&file, len)?;
    let disk = disk_copy(&file, &dir.join("copy.bin"))?;
    let _ = std::fs::remove_file(dir.join("copy.bin"));

    let run: Value = api
        .post("/api/v1/runs", &json!({"project": "bench-artifacts"}))
        .await?;
    let run = run["id"].as_str().context("run without id")?.to_owned();
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let upload_url = format!("{url}/api/v1/runs/{run}/artifacts/big.bin?sha256={sha}");
    let start = Instant::now();
    let body =
        tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::open(&file).await?, 1 << 20);
    let response = client
        .put(&upload_url)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("upload: {}", response.status());
    }
    let upload = start.elapsed();

    let download_url = format!("{url}/api/v1/runs/{run}/artifacts/big.bin");
    let start = Instant::now();
    let mut stream = client.get(&download_url).send().await?.bytes_stream();
    let mut got = 0u64;
    while let Some(chunk) = stream.next().await {
        got += chunk?.len() as u64;
    }
    if got != len {
        bail!("download returned {got} of {len} bytes");
    }
    let download = start.elapsed();
    let _ = std::fs::remove_file(&file);
    let gib = len as f64 / (1u64 << 30) as f64;
    rows.push(row(
        &format!("disk copy + fsync of a {gib:.2} GiB file (the baseline)"),
        mb_per_s(len, disk),
        "—",
    ));
    rows.push(row(
        &format!("artifact upload, {gib:.2} GiB streamed over loopback (hashed, verified, fsync)"),
        format!(
            "{} ({:.2}× disk)",
            mb_per_s(len, upload),
            disk.as_secs_f64() / upload.as_secs_f64()
        ),
        "close to disk speed",
    ));
    rows.push(row(
        &format!("artifact download, {gib:.2} GiB streamed (re-hashed on the way)"),
        mb_per_s(len, download),
        "close to disk speed",
    ));

    rows.extend(lineage(api, url, sizes).await?);
    Ok(rows)
}

/// A chain of `graph_runs` runs, run i reading blob i and writing blob
/// i + 1, traced up from the last blob through all of them; then the
/// project as PROV-JSON.
pub async fn lineage(api: &Api, url: &str, sizes: &Sizes) -> Result<Vec<String>> {
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let mut rows = Vec::new();
    let runs = sizes.graph_runs;
    eprintln!("xtask> creating a {runs}-run data-flow chain for the lineage benchmark");
    let mut last = String::new();
    for i in 0..runs {
        let made: Value = api
            .post(
                "/api/v1/runs",
                &json!({"project": "bench-lineage", "name": format!("step{i}")}),
            )
            .await?;
        let id = made["id"].as_str().context("run without id")?;
        for (path, n, direction) in [("in.txt", i, "input"), ("out.txt", i + 1, "output")] {
            let url = format!("{url}/api/v1/runs/{id}/artifacts/{path}?direction={direction}");
            let response = client.put(&url).body(format!("blob {n}")).send().await?;
            if !response.status().is_success() {
                bail!("artifact upload: {}", response.status());
            }
        }
        last = hex::encode(Sha256::digest(format!("blob {runs}").as_bytes()));
    }
    let trace = format!("/api/v1/lineage?sha256={last}&direction=up&depth={runs}");
    // Checked once, outside the timing: the client's JSON parsing is not
    // the server's cost.
    let graph: Value = serde_json::from_slice(&api.get_raw(&trace).await?)?;
    let n = graph["activities"].as_array().map_or(0, Vec::len);
    if n != runs {
        bail!("the trace reached {n} of {runs} runs");
    }
    let took = median_of(sizes.repeats, || async {
        Ok(api.get_raw(&trace).await?.len())
    })
    .await?;
    rows.push(row(
        &format!("lineage trace up through {runs} runs (every run, file and edge), over HTTP"),
        super::graph::describe(took),
        "< 100 ms",
    ));
    let export = "/api/v1/lineage?project=bench-lineage&format=prov-json";
    let took = median_of(sizes.repeats.min(5), || async {
        Ok(api.get_raw(export).await?.len())
    })
    .await?;
    rows.push(row(
        &format!("PROV-JSON export of the {runs}-run project, over HTTP"),
        super::graph::describe(took),
        "—",
    ));
    Ok(rows)
}
