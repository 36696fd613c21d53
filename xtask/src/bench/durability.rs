//! What `runlore server --durability power` (SQLite `synchronous=FULL`)
//! costs on native ingest against the default `process`
//! (`synchronous=NORMAL`): the same ingest workload as the main benchmark,
//! on a fresh data dir for every measurement, the two modes alternating
//! (and their order swapped each round) so that a machine that speeds up or
//! slows down during the run weighs on both alike.

use anyhow::{Result, bail};

use super::http::Api;
use super::workloads::{ingest, row, table};
use super::{Server, Sizes};
use crate::process::{build_release_binary, target_dir};

const MODES: [&str; 2] = ["process", "power"];
/// The native ingest's batches, and the MLflow API's largest (1,000
/// metrics): the smaller the batch, the more commits, each one fsynced
/// under `power`.
const BATCHES: [usize; 2] = [10_000, 1_000];

pub fn run(sizes: &Sizes) -> Result<String> {
    let binary = build_release_binary()?;
    let rounds = sizes.repeats.clamp(3, 7);
    let runtime = tokio::runtime::Runtime::new()?;
    // rates[batch][mode]
    let mut rates: [[Vec<f64>; 2]; 2] = Default::default();
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for mode in order {
            let data_dir = target_dir()
                .join("bench")
                .join(format!("durability-{}-{round}-{mode}", std::process::id()));
            if data_dir.exists() {
                std::fs::remove_dir_all(&data_dir)?;
            }
            std::fs::create_dir_all(&data_dir)?;
            let server = Server::start_with(&binary, &data_dir, &["--durability", MODES[mode]])?;
            let measured = runtime.block_on(async {
                let api = Api::new(&server.url)?;
                let mut measured = [0.0; 2];
                for (b, batch_points) in BATCHES.into_iter().enumerate() {
                    let sized = Sizes {
                        batch_points,
                        ..sizes.clone()
                    };
                    measured[b] = ingest(&api, &sized).await?.0;
                }
                anyhow::Ok(measured)
            });
            drop(server);
            std::fs::remove_dir_all(&data_dir)?;
            for (b, rate) in measured?.into_iter().enumerate() {
                eprintln!(
                    "xtask> round {}: --durability {}, {}-point batches: {:.2} M points/s",
                    round + 1,
                    MODES[mode],
                    BATCHES[b],
                    rate / 1e6
                );
                rates[b][mode].push(rate);
            }
        }
    }
    let mut rows = Vec::new();
    for (b, batch_points) in BATCHES.into_iter().enumerate() {
        let [process, power] = rates[b].clone().map(median);
        if process <= 0.0 {
            bail!("no ingest rate measured");
        }
        let what = |mode: &str| {
            format!(
                "native ingest, {} points in {batch_points}-point batches, `--durability {mode}` \
                 (median of {rounds})",
                sizes.ingest_points
            )
        };
        let cost = (1.0 - power / process) * 100.0;
        // The 1 M points/s budget is for the native ingest's own batches.
        let budget = if batch_points == BATCHES[0] {
            "≥ 1 M points/s"
        } else {
            "—"
        };
        rows.push(row(
            &what("process"),
            format!("{:.2} M points/s", process / 1e6),
            budget,
        ));
        rows.push(row(
            &what("power"),
            format!("{:.2} M points/s", power / 1e6),
            "—",
        ));
        rows.push(row(
            &format!("cost of `power`, {batch_points}-point batches"),
            format!("{cost:.1} %"),
            "< 10 % to be the default",
        ));
    }
    Ok(table(rows))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
