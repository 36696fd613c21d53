//! `runlore run create`: a run made from the command line, with features
//! read from a YAML or JSON file and parents in the experiment graph.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use runlore_core::features_file::{FeaturesFormat, parse_features};
use runlore_core::{EdgeKind, Error, NewRun, ParentLink, RunStatus};
use serde_json::Value;

use crate::Ctx;
use crate::cli::RunCreateArgs;
use crate::run::resolve_id;

pub async fn create(ctx: &Ctx, args: RunCreateArgs) -> Result<()> {
    // Everything the user typed is checked before anything is written, so a
    // bad file or a malformed KEY=VALUE leaves no half-made run behind.
    let features = args.features.as_deref().map(read_features).transpose()?;
    let params = key_values("--param", &args.params)?;
    let tags = key_values("--tag", &args.tags)?;
    let kind = EdgeKind::parse(&args.kind)?;
    let mut parents = Vec::with_capacity(args.parent.len());
    for parent in &args.parent {
        parents.push(ParentLink {
            run_id: resolve_id(ctx, parent).await?,
            kind,
            resume_step: args.resume_step,
        });
    }
    let new = NewRun {
        project: ctx.project().to_owned(),
        experiment: args.experiment,
        name: args.name,
        status: Some(if args.planned {
            RunStatus::Planned
        } else {
            RunStatus::Running
        }),
        user: std::env::var("USER").ok(),
        params,
        tags,
        features,
        parents,
        ..NewRun::default()
    };
    let run = ctx.store.create_run(new).await?;
    if ctx.json {
        let features = ctx.store.run_features(&run.id).await?;
        return crate::output::print_json(&serde_json::json!({"run": run, "features": features}));
    }
    crate::output::println_flush(&format!(
        "Created run {} ('{}') in {}/{}",
        run.id, run.name, run.project, run.experiment
    ))
}

fn read_features(path: &Path) -> Result<Value> {
    let (text, format) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::invalid(format!("cannot read features from stdin: {e}")))?;
        (text, FeaturesFormat::Yaml)
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid(format!("cannot read features from {}: {e}", path.display()))
        })?;
        (text, FeaturesFormat::from_path(&path.to_string_lossy()))
    };
    parse_features(&text, format).with_context(|| format!("in {}", path.display()))
}

fn key_values(flag: &str, items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for item in items {
        let Some((key, value)) = item.split_once('=') else {
            return Err(Error::invalid(format!("{flag} takes KEY=VALUE, got '{item}'")).into());
        };
        if map.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(Error::invalid(format!("{flag} {key} is given twice")).into());
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_split_at_the_first_equals_sign() {
        let map = key_values("--param", &["lr=0.1".into(), "expr=a=b".into()]).expect("parse");
        assert_eq!(map["lr"], "0.1");
        assert_eq!(map["expr"], "a=b");
        let err = key_values("--tag", &["novalue".into()]).expect_err("no =");
        assert!(err.to_string().contains("--tag takes KEY=VALUE"));
        let err = key_values("--param", &["a=1".into(), "a=2".into()]).expect_err("twice");
        assert!(err.to_string().contains("given twice"));
    }
}
