//! The measured workloads: ingest, history read, search.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::Sizes;
use super::http::{Api, encode};

/// Requests in flight at once while ingesting or populating.
const CONCURRENCY: usize = 4;

pub async fn all(
    url: &str,
    sizes: &Sizes,
    startup: Duration,
    scratch: &std::path::Path,
) -> Result<String> {
    let api = Api::new(url)?;
    let mut rows = vec![row(
        "server start (process spawn → listening)",
        ms(startup),
        "< 200 ms",
    )];

    let (rate, run_id) = ingest(&api, sizes).await?;
    rows.push(row(
        &format!(
            "native ingest, {} points in {}-point batches over HTTP",
            sizes.ingest_points, sizes.batch_points
        ),
        format!("{:.2} M points/s", rate / 1e6),
        "≥ 1 M points/s",
    ));

    let path = format!("/api/v1/runs/{run_id}/metrics/loss");
    let full = median_of(sizes.repeats, || async {
        let body = api.get_raw(&path).await?;
        Ok(body.len())
    })
    .await?;
    let check: Value = serde_json::from_slice(&api.get_raw(&path).await?)?;
    let total = check["points"].as_array().map_or(0, Vec::len);
    if total != sizes.ingest_points {
        bail!(
            "history returned {total} points, expected {}",
            sizes.ingest_points
        );
    }
    rows.push(row(
        &format!(
            "history read, {} points, full, over HTTP (JSON)",
            sizes.ingest_points
        ),
        ms(full),
        "< 100 ms",
    ));
    for (format, label) in [("columns", "JSON columns"), ("binary", "binary")] {
        let format_path = format!("{path}?format={format}");
        let took = median_of(sizes.repeats, || async {
            let body = api.get_raw(&format_path).await?;
            Ok(body.len())
        })
        .await?;
        rows.push(row(
            &format!(
                "history read, {} points, full, over HTTP ({label}, `format={format}`)",
                sizes.ingest_points
            ),
            ms(took),
            "< 100 ms",
        ));
    }
    let binary = api.get_raw(&format!("{path}?format=binary")).await?;
    if binary.len() != sizes.ingest_points * 24 {
        bail!("binary history has {} bytes", binary.len());
    }
    let down_path = format!("{path}?max_points=2000");
    let down = median_of(sizes.repeats, || async {
        let body = api.get_raw(&down_path).await?;
        Ok(body.len())
    })
    .await?;
    rows.push(row(
        &format!(
            "history read, {} points downsampled to ≤ 2,000, over HTTP",
            sizes.ingest_points
        ),
        ms(down),
        "< 20 ms",
    ));

    populate_search(&api, sizes.search_runs).await?;
    for (filter, order) in [
        (
            "metrics.acc > 0.5 AND params.lr = '0.01'",
            "metrics.loss DESC",
        ),
        (
            "params.optimizer = 'adam' AND tags.team LIKE 'vision%'",
            "attributes.start_time DESC",
        ),
        (
            "metrics.acc > 0.9 OR (params.lr IN ('0.1', '0.3') AND metrics.loss < 0.2)",
            "params.lr ASC",
        ),
        (
            "features.model.arch = 'resnet' AND features.model.lr > 0.05",
            "features.model.depth DESC",
        ),
        (
            "features.data.augment = 'true'",
            "features.data.batch_size ASC",
        ),
    ] {
        let query = format!(
            "/api/v1/runs?project=bench-search&filter={}&order_by={}&limit=100",
            encode(filter),
            encode(order)
        );
        let took = median_of(sizes.repeats, || async {
            let body = api.get_raw(&query).await?;
            Ok(body.len())
        })
        .await?;
        rows.push(row(
            &format!(
                "search {} runs: `{filter}` order by `{order}`, first 100",
                sizes.search_runs
            ),
            ms(took),
            "< 50 ms",
        ));
    }

    let deep = super::graph::populate(&api, sizes.graph_runs).await?;
    let features = format!("/api/v1/runs/{deep}/features");
    let took = median_of(sizes.repeats, || async {
        Ok(api.get_raw(&features).await?.len())
    })
    .await?;
    rows.push(row(
        &format!(
            "full features of a run {} generations deep, over HTTP",
            super::graph::CHAIN
        ),
        super::graph::describe(took),
        "< 5 ms",
    ));
    let ancestors = format!("/api/v1/runs/{deep}/ancestors?depth=1000");
    let took = median_of(sizes.repeats, || async {
        Ok(api.get_raw(&ancestors).await?.len())
    })
    .await?;
    rows.push(row(
        &format!("its {} ancestors, over HTTP", super::graph::CHAIN - 1),
        super::graph::describe(took),
        "—",
    ));
    let graph_path = "/api/v1/projects/bench-graph/graph";
    let took = median_of(sizes.repeats, || async {
        Ok(api.get_raw(graph_path).await?.len())
    })
    .await?;
    rows.push(row(
        &format!(
            "graph of a {}-run project (nodes with latest metrics, edges), over HTTP",
            sizes.graph_runs
        ),
        super::graph::describe(took),
        "< 100 ms",
    ));

    rows.extend(super::artifacts::rows(&api, url, sizes, scratch).await?);
    Ok(table(rows))
}

/// The report's table from its rows.
pub(super) fn table(rows: Vec<String>) -> String {
    let mut out = String::from("| workload | measured (median) | budget |\n|---|---|---|\n");
    for r in rows {
        out.push_str(&r);
        out.push('\n');
    }
    out
}

pub(super) fn row(what: &str, figure: String, budget: &str) -> String {
    format!("| {what} | {figure} | {budget} |")
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

pub(super) async fn median_of<F, Fut>(repeats: usize, mut f: F) -> Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize>>,
{
    f().await?; // warm-up: caches, connection
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        f().await?;
        times.push(start.elapsed());
    }
    times.sort();
    times.get(times.len() / 2).copied().context("no repeats")
}

async fn create_run(api: &Api, project: &str, name: &str, fields: Value) -> Result<String> {
    let mut body = json!({"project": project, "experiment": "bench", "name": name});
    if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
        body.extend(fields.clone());
    }
    let run = api.post("/api/v1/runs", &body).await?;
    run["id"]
        .as_str()
        .map(str::to_owned)
        .context("run without id")
}

/// Sends `sizes.ingest_points` points of one metric in batches, several in
/// flight, and returns points per second and the run id.
pub(super) async fn ingest(api: &Api, sizes: &Sizes) -> Result<(f64, String)> {
    let run_id = create_run(api, "bench-ingest", "ingest", json!({})).await?;
    let path = format!("/api/v1/runs/{run_id}/log");
    let bodies: Vec<Vec<u8>> = (0..sizes.ingest_points / sizes.batch_points)
        .map(|b| {
            let metrics: Vec<Value> = (0..sizes.batch_points)
                .map(|i| {
                    let step = (b * sizes.batch_points + i) as i64;
                    json!({"key": "loss", "value": 1.0 / (step as f64 + 1.0), "step": step, "timestamp": 1_700_000_000_000i64 + step})
                })
                .collect();
            serde_json::to_vec(&json!({"metrics": metrics}))
        })
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let mut queue = bodies.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < CONCURRENCY {
            let Some(body) = queue.next() else { break };
            let (api, path) = (api.clone(), path.clone());
            running.spawn(async move { api.post_raw(&path, body).await });
        }
        match running.join_next().await {
            Some(done) => {
                done??;
            }
            None => break,
        }
    }
    let took = start.elapsed();
    Ok((sizes.ingest_points as f64 / took.as_secs_f64(), run_id))
}

/// Creates the search corpus: runs with params, tags, features and two
/// metrics.
async fn populate_search(api: &Api, runs: usize) -> Result<()> {
    eprintln!("xtask> creating {runs} runs for the search benchmark");
    let mut running = tokio::task::JoinSet::new();
    for i in 0..runs {
        while running.len() >= CONCURRENCY * 4 {
            if let Some(done) = running.join_next().await {
                done??;
            }
        }
        let api = api.clone();
        running.spawn(async move {
            let lr = ["0.01", "0.03", "0.1", "0.3"][i % 4];
            let optimizer = ["adam", "sgd", "adamw"][i % 3];
            let team = ["vision-a", "vision-b", "nlp", "rl", "audio"][i % 5];
            let arch = ["resnet", "vit", "mlp"][i % 3];
            let features = json!({
                "model": {"lr": lr.parse::<f64>()?, "depth": 18 + (i % 5) * 8, "arch": arch},
                "data": {"augment": i % 2 == 0, "batch_size": 32 << (i % 3)},
            });
            let id = create_run(
                &api,
                "bench-search",
                &format!("run-{i}"),
                json!({
                    "params": {"lr": lr, "optimizer": optimizer, "seed": (i % 10).to_string()},
                    "tags": {"team": team},
                    "features": features,
                }),
            )
            .await?;
            // A cheap deterministic spread of metric values in [0, 1).
            let acc = ((i as u64).wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
            let loss = ((i as u64).wrapping_mul(40_503) % 10_000) as f64 / 10_000.0;
            api.post(
                &format!("/api/v1/runs/{id}/log"),
                &json!({"metrics": [{"key": "acc", "value": acc, "step": 1}, {"key": "loss", "value": loss, "step": 1}]}),
            )
            .await?;
            anyhow::Ok(())
        });
    }
    while let Some(done) = running.join_next().await {
        done??;
    }
    Ok(())
}
