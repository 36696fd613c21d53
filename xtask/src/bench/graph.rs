//! The experiment-graph workloads: a project of `graph_runs` runs (a chain
//! 100 generations deep, the rest a 4-ary tree), each with features that
//! differ from its parent's in one leaf.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::http::Api;

/// Generations of the chain whose last run is read.
pub const CHAIN: usize = 100;

/// Creates the project; returns the id of the run at the end of the chain.
pub async fn populate(api: &Api, runs: usize) -> Result<String> {
    eprintln!("xtask> creating {runs} runs with parents and features for the graph benchmark");
    let mut ids: Vec<String> = Vec::with_capacity(runs);
    for i in 0..runs {
        // 0..CHAIN is a chain; later runs hang under earlier ones, 4 each.
        let parent = match i {
            0 => None,
            i if i < CHAIN => Some(i - 1),
            i => Some((i - CHAIN) / 4),
        };
        let features = json!({
            "model": {"lr": 1.0 / (i as f64 + 1.0), "depth": 12 + i % 5},
            "data": {"name": "imagenet", "shard": i % 7},
            "seed": i,
        });
        let mut body = json!({"project": "bench-graph", "experiment": "bench",
                              "name": format!("{i}_run"), "features": features});
        if let Some(p) = parent {
            body["parents"] = json!([{"run_id": ids[p]}]);
        }
        let run: Value = api.post("/api/v1/runs", &body).await?;
        ids.push(run["id"].as_str().context("run without id")?.to_owned());
    }
    Ok(ids[CHAIN.min(runs) - 1].clone())
}

pub fn describe(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
