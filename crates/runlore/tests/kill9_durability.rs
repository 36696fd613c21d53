//! Nothing the server acknowledged is lost when it is killed with SIGKILL
//! under load: a client thread sends native log batches without pause and
//! records each one the server answered 200 to; the server (the real
//! binary, on a loopback port 0, a temporary data dir) is killed by its PID
//! mid-load three times and started again on the same data dir; at the end
//! every acknowledged point is read back through the API, value for value.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use runlore_client::HttpStore;
use runlore_core::store::MetricRange;
use runlore_core::{LogBatch, MetadataStore, MetricPoint, MetricValue, NewRun, RunId};
use support::{ServerChild, block_on};

const KEY: &str = "loss";
const BATCH: i64 = 2_000;
const KILLS: usize = 3;
/// Points acknowledged between two kills (and after the last restart).
const PER_LIFE: u64 = 60_000;
const WAIT: Duration = Duration::from_secs(120);
const T0: i64 = 1_800_000_000_000;

fn value_at(step: i64) -> f64 {
    1.0 / (step as f64 + 1.0)
}

fn batch_from(start: i64) -> LogBatch {
    let metrics = (start..start + BATCH)
        .map(|step| MetricPoint {
            key: KEY.to_owned(),
            value: MetricValue(value_at(step)),
            step,
            timestamp: Some(T0 + step),
        })
        .collect();
    LogBatch {
        metrics,
        ..LogBatch::default()
    }
}

fn client(url: &str) -> HttpStore {
    HttpStore::with_timeouts(url, Duration::from_secs(2), Duration::from_secs(20)).unwrap()
}

/// What the client thread and the test share.
struct Progress {
    /// Points acknowledged so far: exactly steps `0..acked`.
    acked: AtomicU64,
    stop: AtomicBool,
}

/// Sends batch after batch to each server it is given, until one fails (the
/// server was killed); the batch that failed is sent again to the next
/// server, as any client would. Returns the number of acknowledged points.
fn send_until_stopped(run: RunId, servers: mpsc::Receiver<String>, progress: Arc<Progress>) -> u64 {
    block_on(async move {
        let mut next = 0_i64;
        while let Ok(url) = servers.recv() {
            let store = client(&url);
            while !progress.stop.load(Ordering::SeqCst) {
                if store.log_batch(&run, batch_from(next)).await.is_err() {
                    break;
                }
                next += BATCH;
                progress.acked.store(next as u64, Ordering::SeqCst);
            }
            if progress.stop.load(Ordering::SeqCst) {
                break;
            }
        }
        next as u64
    })
}

fn history(url: &str, run: &RunId) -> Vec<runlore_core::HistoryPoint> {
    let range = MetricRange {
        key: KEY.into(),
        start_step: None,
        end_step: None,
    };
    block_on(client(url).metric_history(run, range)).unwrap()
}

fn wait_for_acked(acked: &AtomicU64, at_least: u64) {
    let deadline = Instant::now() + WAIT;
    while acked.load(Ordering::SeqCst) < at_least {
        assert!(
            Instant::now() < deadline,
            "only {} points acknowledged, waiting for {at_least}",
            acked.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn acknowledged_points_survive_three_sigkills_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ServerChild::start(dir.path(), &data);
    let run = block_on(client(&server.url).create_run(NewRun {
        project: "durability".into(),
        ..NewRun::default()
    }))
    .unwrap()
    .id;

    let progress = Arc::new(Progress {
        acked: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let (servers, handed) = mpsc::channel();
    let sender = {
        let (run, progress) = (run.clone(), progress.clone());
        std::thread::spawn(move || send_until_stopped(run, handed, progress))
    };
    servers.send(server.url.clone()).unwrap();
    for life in 1..=KILLS as u64 {
        wait_for_acked(&progress.acked, life * PER_LIFE);
        // SIGKILL, by the child's own PID, while the client is sending.
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        let acknowledged = progress.acked.load(Ordering::SeqCst);
        server = ServerChild::start(dir.path(), &data);
        let stored = history(&server.url, &run).len() as u64;
        assert!(
            stored >= acknowledged,
            "kill {life}: {stored} points stored, {acknowledged} had been acknowledged"
        );
        servers.send(server.url.clone()).unwrap();
    }
    wait_for_acked(&progress.acked, (KILLS as u64 + 1) * PER_LIFE);
    progress.stop.store(true, Ordering::SeqCst);
    let total = sender.join().unwrap();

    // Every acknowledged point, once, with its value and timestamp (the
    // batches cut off by a kill were sent again, and stored once).
    let points = history(&server.url, &run);
    let stored: Vec<i64> = points.iter().map(|p| p.step).collect();
    assert_eq!(stored.len() as u64, total, "points stored vs acknowledged");
    assert_eq!(stored, (0..total as i64).collect::<Vec<_>>());
    for point in &points {
        assert_eq!(point.value.0, value_at(point.step), "step {}", point.step);
        assert_eq!(point.timestamp, T0 + point.step, "step {}", point.step);
    }
}

#[test]
fn an_unknown_durability_is_refused_naming_the_modes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = support::runlore(dir.path())
        .args([
            "server",
            "--port",
            "0",
            "--durability",
            "fsync",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'process'") && err.contains("'power'"),
        "{err}"
    );
    assert!(!data.exists(), "a refused server created its data dir");
}
