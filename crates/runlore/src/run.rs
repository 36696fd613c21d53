//! `runlore run …`

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use runlore_core::filter::{
    Attribute, CompareOp, Comparison, Expr, Field, Operand, parse_filter, parse_order_by,
};
use runlore_core::store::{MAX_PAGE_SIZE, RunQuery};
use runlore_core::{Error, ErrorKind, Lifecycle, LifecycleView, Run, RunId};

use crate::cli::RunCommand;
use crate::{Ctx, experiment};
use crate::{output, paging};

/// Metric columns `run list` shows at most.
const MAX_METRIC_COLUMNS: usize = 4;

pub async fn run(ctx: &Ctx, command: RunCommand) -> Result<()> {
    match command {
        RunCommand::Create(args) => crate::run_create::create(ctx, args).await,
        RunCommand::List {
            experiment,
            filter,
            order_by,
            limit,
            all,
        } => list(ctx, &experiment, filter.as_deref(), &order_by, limit, all).await,
        RunCommand::Show { id } => {
            let id = resolve_id(ctx, &id).await?;
            let run = ctx.store.get_run(&id).await?;
            show(ctx, &run)
        }
        RunCommand::Delete { id } => {
            let id = resolve_id(ctx, &id).await?;
            let run = ctx.store.set_run_lifecycle(&id, Lifecycle::Deleted).await?;
            done(ctx, &run, "deleted (restore it with `runlore run restore`)")
        }
        RunCommand::Restore { id, to: Some(dir) } => crate::restore::restore(ctx, &id, &dir).await,
        RunCommand::Rerun(args) => crate::restore::rerun(ctx, args).await,
        RunCommand::Env { id, build } => crate::restore::build_env(ctx, &id, &build).await,
        RunCommand::Snapshot { id, dir, wait } => {
            crate::snapshot_cmd::run(ctx, &id, dir.as_deref(), wait).await
        }
        RunCommand::Report { id, output, save } => {
            crate::report::run(ctx, &id, output.as_deref(), save).await
        }
        RunCommand::Restore { id, to: None } => {
            let id = resolve_id(ctx, &id).await?;
            let run = ctx.store.set_run_lifecycle(&id, Lifecycle::Active).await?;
            done(ctx, &run, "restored")
        }
        RunCommand::Diff { a, b } => {
            let a = ctx.store.run_features(&resolve_id(ctx, &a).await?).await?;
            let b = ctx.store.run_features(&resolve_id(ctx, &b).await?).await?;
            crate::features::print_diff(ctx, &runlore_core::graph::diff(&a.full, &b.full))
        }
        RunCommand::Tree { id, depth } => {
            let id = resolve_id(ctx, &id).await?;
            let up = ctx
                .store
                .run_lineage(&id, runlore_core::Direction::Up, depth)
                .await?;
            let down = ctx
                .store
                .run_lineage(&id, runlore_core::Direction::Down, depth)
                .await?;
            crate::features::print_tree(ctx, &up, &down)
        }
        RunCommand::Features { id } => {
            let id = resolve_id(ctx, &id).await?;
            let features = ctx.store.run_features(&id).await?;
            let changes = ctx.store.parent_changes(&id).await?;
            crate::features::print_features_with_history(ctx, &features, &changes)
        }
        RunCommand::SetParent {
            id,
            parents,
            kind,
            resume_step,
        } => {
            let id = resolve_id(ctx, &id).await?;
            let kind = runlore_core::EdgeKind::parse(&kind)?;
            let mut links = Vec::new();
            for parent in &parents {
                links.push(runlore_core::ParentLink {
                    run_id: resolve_id(ctx, parent).await?,
                    kind,
                    resume_step,
                });
            }
            let who = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
            let features = ctx.store.set_run_parents(&id, links, &who).await?;
            crate::features::print_features(ctx, &features)
        }
    }
}

/// A full run id, or the one run whose id starts with the given prefix.
pub async fn resolve_id(ctx: &Ctx, text: &str) -> Result<RunId> {
    let text = text.trim().to_ascii_lowercase();
    if let Ok(id) = RunId::parse(&text) {
        return Ok(id);
    }
    if text.is_empty() || text.len() > 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(format!(
            "invalid run id '{text}': expected a run id or a unique prefix of one (hex digits)"
        ))
        .into());
    }
    let query = RunQuery {
        filter: Some(Expr::Compare(Comparison {
            field: Field::Attribute(Attribute::RunId),
            op: CompareOp::Like,
            value: Operand::String(format!("{text}%")),
        })),
        view: LifecycleView::All,
        limit: 3,
        ..RunQuery::default()
    };
    let page = ctx.store.search_runs(query).await?;
    match page.items.as_slice() {
        [] => Err(Error::new(
            ErrorKind::NotFound,
            format!("no run id starts with '{text}'"),
        )
        .into()),
        [run] => Ok(run.id.clone()),
        several => {
            let ids: Vec<&str> = several.iter().map(|r| r.id.as_str()).collect();
            Err(Error::invalid(format!(
                "run id prefix '{text}' is ambiguous: it matches {}{}; give more characters",
                ids.join(", "),
                if page.next_cursor.is_some() {
                    ", …"
                } else {
                    ""
                }
            ))
            .into())
        }
    }
}

async fn list(
    ctx: &Ctx,
    experiments: &[String],
    filter: Option<&str>,
    order_by: &[String],
    limit: usize,
    all: bool,
) -> Result<()> {
    // Parsed here, so a mistake is shown with its position before any I/O.
    let filter = match filter {
        Some(text) => parse_filter(text).context("--filter")?,
        None => None,
    };
    let order_by = parse_order_by(order_by).context("--order-by")?;
    let mut experiment_ids = Vec::with_capacity(experiments.len());
    for name in experiments {
        experiment_ids.push(experiment::resolve(ctx, name).await?.id);
    }
    let mut columns: Vec<String> = Vec::new();
    for key in &order_by {
        if let Field::Metric(k) = &key.field {
            columns.push(k.clone());
        }
    }
    if let Some(expr) = &filter {
        metric_keys_of(expr, &mut columns);
    }
    let query = RunQuery {
        project: Some(ctx.project().to_owned()),
        experiment_ids,
        filter,
        order_by,
        view: if all {
            LifecycleView::All
        } else {
            LifecycleView::Active
        },
        limit: limit.clamp(1, MAX_PAGE_SIZE),
        cursor: None,
    };
    let (runs, more) = paging::collect(limit, |cursor| {
        let mut page_query = query.clone();
        page_query.cursor = cursor;
        ctx.store.search_runs(page_query)
    })
    .await?;
    if runs.is_empty() {
        // An empty list of a project that does not exist is a mistake.
        ctx.store.get_project(ctx.project()).await?;
    }
    if ctx.json {
        return output::print_json(&runs);
    }
    if runs.is_empty() {
        return output::println_flush(&format!("No runs found in project '{}'", ctx.project()));
    }
    let columns = metric_columns(columns, &runs);
    let mut header: Vec<String> = [
        "ID",
        "NAME",
        "STATUS",
        "EXPERIMENT",
        "START (UTC)",
        "DURATION",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(columns.iter().cloned());
    let mut table = output::table(header);
    let now = runlore_core::time::now_ms();
    for run in &runs {
        let mut row = vec![
            output::short_id(run.id.as_str()).to_owned(),
            run.name.clone(),
            status_text(run),
            run.experiment.clone(),
            output::optional_time(run.start_time),
            run_duration(run, now),
        ];
        for key in &columns {
            let value = run.metrics.iter().find(|m| &m.key == key);
            row.push(value.map_or_else(|| "-".to_owned(), |m| output::number(m.value.0)));
        }
        table.add_row(row);
    }
    output::print_table(&table)?;
    if more {
        eprintln!("(more runs match: raise --limit to see them)");
    }
    Ok(())
}

/// The metric keys a filter compares, in order of appearance.
fn metric_keys_of(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            metric_keys_of(a, out);
            metric_keys_of(b, out);
        }
        Expr::Compare(c) => {
            if let Field::Metric(k) = &c.field {
                out.push(k.clone());
            }
        }
    }
}

/// Keys named by the query first, then the metrics most runs have (ties by
/// name), at most [`MAX_METRIC_COLUMNS`].
fn metric_columns(mut named: Vec<String>, runs: &[Run]) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for run in runs {
        for m in &run.metrics {
            *counts.entry(m.key.as_str()).or_default() += 1;
        }
    }
    let mut common: Vec<(&str, usize)> = counts.into_iter().collect();
    common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    named.extend(common.into_iter().map(|(k, _)| k.to_owned()));
    let mut columns: Vec<String> = Vec::new();
    for key in named {
        if !columns.contains(&key) {
            columns.push(key);
        }
    }
    columns.truncate(MAX_METRIC_COLUMNS);
    columns
}

fn status_text(run: &Run) -> String {
    match run.lifecycle {
        Lifecycle::Active => run.status.as_str().to_owned(),
        other => format!("{} ({})", run.status.as_str(), other.as_str()),
    }
}

/// End minus start; a run still going counts up to now.
fn run_duration(run: &Run, now: i64) -> String {
    match (run.start_time, run.end_time) {
        (Some(start), Some(end)) => output::duration(end - start),
        (Some(start), None) if !run.status.is_terminal() => output::duration(now - start),
        _ => "-".to_owned(),
    }
}

fn done(ctx: &Ctx, run: &Run, what: &str) -> Result<()> {
    if ctx.json {
        return output::print_json(run);
    }
    output::println_flush(&format!("Run {} ('{}') {what}", run.id, run.name))
}

fn show(ctx: &Ctx, run: &Run) -> Result<()> {
    if ctx.json {
        return output::print_json(run);
    }
    let now = runlore_core::time::now_ms();
    output::print_table(&output::details([
        ("id", run.id.to_string()),
        ("name", run.name.clone()),
        ("project", run.project.clone()),
        (
            "experiment",
            format!("{} (id {})", run.experiment, run.experiment_id),
        ),
        ("status", run.status.as_str().to_owned()),
        ("state", run.lifecycle.as_str().to_owned()),
        ("user", run.user.clone()),
        ("start (UTC)", output::optional_time(run.start_time)),
        ("end (UTC)", output::optional_time(run.end_time)),
        ("duration", run_duration(run, now)),
        (
            "parent run",
            run.parent_run_id
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string),
        ),
    ]))?;
    let mut params = output::table(["KEY", "VALUE"]);
    for (k, v) in &run.params {
        params.add_row(vec![k.clone(), v.clone()]);
    }
    output::print_section("Params", &params)?;
    let mut tags = output::table(["KEY", "VALUE"]);
    for (k, v) in &run.tags {
        tags.add_row(vec![k.clone(), v.clone()]);
    }
    output::print_section("Tags", &tags)?;
    let mut metrics = output::table(["KEY", "LATEST", "STEP", "TIME (UTC)"]);
    for m in &run.metrics {
        metrics.add_row(vec![
            m.key.clone(),
            output::number(m.value.0),
            m.step.to_string(),
            output::time(m.timestamp),
        ]);
    }
    output::print_section("Metrics", &metrics)?;
    if run.components.is_empty() {
        return Ok(());
    }
    let mut components = output::table(["COMPONENT", "STATUS", "REASON"]);
    for c in &run.components {
        components.add_row(vec![
            c.name.clone(),
            c.status.as_str().to_owned(),
            c.reason.clone(),
        ]);
    }
    output::print_section("Components", &components)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_columns_prefer_named_then_common_keys() {
        let cols = metric_columns(vec!["acc".into(), "acc".into()], &[]);
        assert_eq!(cols, vec!["acc".to_owned()]);
        let named: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
        assert_eq!(metric_columns(named, &[]).len(), MAX_METRIC_COLUMNS);
    }
}
