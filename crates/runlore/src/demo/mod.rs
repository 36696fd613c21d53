//! `runlore demo`: seeds a realistic project (default `demo`) through the
//! store and the artifact service, so the web UI has something to show: a
//! DAG of runs with features (diffs along edges, a merge, an ablation, a
//! resume), params, loss/accuracy histories, a FAILED run with its error, a
//! PLANNED run, key metrics, and artifacts (config, CSV, per-step images,
//! logs, a dataset other runs use by hash). Works on the local data dir and
//! with `--server URL`. A project that already exists is left alone: the
//! command says so and succeeds, so running it twice is harmless.

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::Args;
use runlore_core::artifact_service::{UploadOptions, UseInput};
use runlore_core::{
    EdgeKind, ErrorKind, KeyMetric, LogBatch, MetricAggregation, MetricGoal, NewProject, NewRun,
    ParentLink, ProjectSettings, RunId, RunPatch, RunStatus, Sha256Hex,
};
use serde_json::{Value, json};

use crate::Ctx;

mod data;
use data::{components, confusion_png, curves, params_of, per_class_csv, split_csv, stdout_log};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The project to create; left alone when it already exists
    #[arg(value_name = "PROJECT", default_value = "demo")]
    pub project: String,
}

/// One seeded run: where it sits in the DAG and how its training went.
struct Spec {
    name: &'static str,
    experiment: &'static str,
    /// Indices of earlier specs, with the edge kind (the first is primary).
    parents: &'static [(usize, EdgeKind)],
    /// Feature changes against the primary parent (JSON Pointer, value).
    changes: &'static [(&'static str, &'static str)],
    status: RunStatus,
    /// Final loss and accuracy the curves approach.
    final_loss: f64,
    final_acc: f64,
}

const STEPS: i64 = 300;

#[rustfmt::skip]
fn specs() -> Vec<Spec> {
    use EdgeKind::{AblationOf, DerivedFrom, MergedFrom, ResumedFrom};
    use RunStatus::{Failed, Finished, Planned};
    let spec = |name, experiment, parents, changes, status, final_loss, final_acc| Spec {
        name, experiment, parents, changes, status, final_loss, final_acc,
    };
    vec![
        spec("1_baseline", "baselines", &[], &[], Finished, 0.62, 0.78),
        spec("2_adam", "baselines", &[(0, DerivedFrom)], &[("/optim/name", "\"adam\""), ("/optim/lr", "0.001")], Finished, 0.48, 0.83),
        spec("3_augment", "baselines", &[(0, DerivedFrom)], &[("/data/augment", "true")], Finished, 0.55, 0.81),
        spec("4_adam_augment", "tuning", &[(1, DerivedFrom), (2, MergedFrom)], &[("/data/augment", "true")], Finished, 0.41, 0.86),
        spec("5_resnet34", "tuning", &[(3, DerivedFrom)], &[("/model/arch", "\"resnet34\""), ("/model/depth", "34")], Finished, 0.36, 0.88),
        spec("6_lr_high", "tuning", &[(3, DerivedFrom)], &[("/optim/lr", "0.01")], Failed, 0.0, 0.0),
        spec("7_dropout", "tuning", &[(4, DerivedFrom)], &[("/model/dropout", "0.3")], Finished, 0.33, 0.895),
        spec("8_no_dropout", "tuning", &[(4, AblationOf)], &[("/model/dropout", "0.0")], Finished, 0.39, 0.87),
        spec("9_long", "tuning", &[(6, ResumedFrom)], &[("/train/epochs", "60")], Finished, 0.29, 0.905),
        spec("10_wider", "tuning", &[(6, DerivedFrom)], &[("/model/width", "2")], Planned, 0.0, 0.0),
    ]
}

fn base_features() -> Value {
    json!({
        "model": {"arch": "resnet18", "depth": 18, "dropout": 0.1, "width": 1},
        "optim": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0005},
        "data": {"dataset": "cifar10", "augment": false, "split": "data/split.csv"},
        "train": {"epochs": 30, "batch_size": 128, "seed": 7}
    })
}

pub async fn run(ctx: &Ctx, args: DemoArgs) -> Result<()> {
    let project = args.project;
    match ctx.store.get_project(&project).await {
        Ok(_) => {
            let message = format!(
                "project '{project}' already exists; nothing seeded (name another: runlore demo NAME)"
            );
            if ctx.json {
                println!(
                    "{}",
                    json!({"project": project, "seeded": false, "message": message})
                );
            } else {
                println!("{message}");
            }
            return Ok(());
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("cannot read the projects"),
    }
    let description = "Seeded by `runlore demo`: an image classifier tuned step by step".to_owned();
    ctx.store
        .create_project(NewProject {
            name: project.clone(),
            description,
        })
        .await?;
    let key_metrics = vec![
        KeyMetric {
            key: "val_loss".into(),
            direction: MetricGoal::Min,
            aggregation: MetricAggregation::Best,
        },
        KeyMetric {
            key: "acc".into(),
            direction: MetricGoal::Max,
            aggregation: MetricAggregation::Last,
        },
    ];
    let settings = ProjectSettings {
        naming: None,
        key_metrics,
    };
    ctx.store.set_project_settings(&project, settings).await?;

    let service = crate::artifact::service(ctx)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let specs = specs();
    let mut ids: Vec<RunId> = Vec::new();
    let mut trees: Vec<Value> = Vec::new();
    let mut split_sha: Option<Sha256Hex> = None;
    let mut artifacts = 0usize;
    for (i, spec) in specs.iter().enumerate() {
        let mut features = spec
            .parents
            .first()
            .map_or_else(base_features, |(p, _)| trees[*p].clone());
        for (pointer, raw) in spec.changes {
            let value: Value = serde_json::from_str(raw)?;
            if let Some(slot) = features.pointer_mut(pointer) {
                *slot = value;
            }
        }
        let parents = spec
            .parents
            .iter()
            .map(|(p, kind)| ParentLink {
                run_id: ids[*p].clone(),
                kind: *kind,
                resume_step: (*kind == EdgeKind::ResumedFrom).then_some(STEPS),
            })
            .collect();
        let start = now - (specs.len() - i) as i64 * 3_600_000;
        let planned = spec.status == RunStatus::Planned;
        let run = ctx
            .store
            .create_run(NewRun {
                project: project.clone(),
                experiment: Some(spec.experiment.to_owned()),
                name: Some(spec.name.to_owned()),
                status: Some(if planned {
                    RunStatus::Planned
                } else {
                    RunStatus::Running
                }),
                start_time: (!planned).then_some(start),
                user: Some("demo".to_owned()),
                params: params_of(&features),
                tags: [
                    ("team".to_owned(), "vision".to_owned()),
                    ("stage".to_owned(), spec.experiment.to_owned()),
                ]
                .into(),
                features: Some(features.clone()),
                parents,
                ..NewRun::default()
            })
            .await?;
        ids.push(run.id.clone());
        trees.push(features.clone());
        if planned {
            continue;
        }
        let failed = spec.status == RunStatus::Failed;
        let batch = LogBatch {
            metrics: curves(spec, i, start),
            tags: if failed {
                [(
                    "runlore.error".to_owned(),
                    "RuntimeError: loss became NaN at step 120 (lr 0.01 is too high for adam)"
                        .to_owned(),
                )]
                .into()
            } else {
                Default::default()
            },
            components: components(failed),
            ..LogBatch::default()
        };
        ctx.store.log_batch(&run.id, batch).await?;

        let put = |path: String, bytes: Vec<u8>, step: Option<i64>| {
            let service = service.clone();
            let run_id = run.id.clone();
            async move {
                let body = Box::pin(futures::stream::once(async move { Ok(Bytes::from(bytes)) }));
                let options = UploadOptions {
                    step,
                    ..UploadOptions::default()
                };
                service.upload(&run_id, &path, body, options).await
            }
        };
        put(
            "config.yaml".into(),
            yaml_serde::to_string(&features)?.into_bytes(),
            None,
        )
        .await?;
        put(
            "logs/stdout.log".into(),
            stdout_log(spec, failed).into_bytes(),
            None,
        )
        .await?;
        put("logs/stderr.log".into(), if failed { "Traceback (most recent call last):\n  File \"train.py\", line 88, in <module>\nRuntimeError: loss became NaN at step 120\n".into() } else { "warning: cudnn benchmark mode on\n".to_owned() }.into_bytes(), None).await?;
        artifacts += 3;
        if !failed {
            put(
                "eval/per_class.csv".into(),
                per_class_csv(spec, i).into_bytes(),
                None,
            )
            .await?;
            for step in [100, 200, 300] {
                put(
                    format!("media/confusion/step_{step:04}.png"),
                    confusion_png(i, step),
                    Some(step),
                )
                .await?;
            }
            artifacts += 4;
        }
        if i == 0 {
            let uploaded = put("data/split.csv".into(), split_csv().into_bytes(), None).await?;
            split_sha = Some(uploaded.sha256);
            artifacts += 1;
        } else if let Some(sha256) = &split_sha {
            let input = UseInput {
                sha256: sha256.clone(),
                path: "data/split.csv".into(),
                uri: None,
            };
            service.use_input(&run.id, input).await?;
            artifacts += 1;
        }
        let patch = RunPatch {
            status: Some(spec.status),
            end_time: Some(start + if failed { 120 } else { STEPS } * 2_000),
            ..RunPatch::default()
        };
        ctx.store.update_run(&run.id, patch).await?;
    }
    let edges: usize = specs.iter().map(|s| s.parents.len()).sum();
    if ctx.json {
        println!(
            "{}",
            json!({"project": project, "seeded": true, "runs": ids.len(), "edges": edges, "artifacts": artifacts})
        );
    } else {
        println!(
            "Seeded project '{project}': {} runs, {edges} edges, {artifacts} artifacts.\n\
             See it: runlore server, then http://127.0.0.1:5000/projects/{project}",
            ids.len()
        );
    }
    Ok(())
}
