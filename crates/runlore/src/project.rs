//! `runlore project …`

use std::path::PathBuf;

use anyhow::Result;
use runlore_core::{Lifecycle, LifecycleView, NewProject, Project};

use crate::Ctx;
use crate::cli::ProjectCommand;
use crate::config::{self, CONFIG_FILE};
use crate::output;

pub async fn run(ctx: &Ctx, command: ProjectCommand) -> Result<()> {
    match command {
        ProjectCommand::Settings {
            name,
            naming_pattern,
            parent_from,
            enforce_naming,
            clear_naming,
            key_metrics,
            clear_key_metrics,
        } => {
            let mut settings = ctx.store.project_settings(&name).await?;
            let mut changed = false;
            if clear_naming || naming_pattern.is_some() {
                let parent_from: runlore_core::ParentFrom =
                    serde_json::from_value(serde_json::Value::String(parent_from.clone()))
                        .map_err(|_| {
                            runlore_core::Error::invalid(format!(
                                "--parent-from must be group, explicit or none, not '{parent_from}'"
                            ))
                        })?;
                settings.naming = naming_pattern.map(|pattern| runlore_core::NamingRule {
                    pattern,
                    parent_from,
                    enforce: enforce_naming,
                });
                changed = true;
            }
            if clear_key_metrics || !key_metrics.is_empty() {
                settings.key_metrics = key_metrics
                    .iter()
                    .map(|spec| parse_key_metric(spec))
                    .collect::<Result<_>>()?;
                changed = true;
            }
            if changed {
                settings = ctx.store.set_project_settings(&name, settings).await?;
            }
            output::print_json(&settings)
        }
        ProjectCommand::Create { name, description } => {
            runlore_core::validate::project_name(&name)?;
            runlore_core::validate::description(&description)?;
            let project = ctx
                .store
                .create_project(NewProject { name, description })
                .await?;
            done(ctx, &project, "created")
        }
        ProjectCommand::List { all } => {
            let view = if all {
                LifecycleView::All
            } else {
                LifecycleView::Active
            };
            let projects = ctx.store.list_projects(view).await?;
            if ctx.json {
                return output::print_json(&projects);
            }
            let mut table = output::table(["", "NAME", "STATE", "CREATED (UTC)", "DESCRIPTION"]);
            for p in &projects {
                let current = if p.name == ctx.project() { "*" } else { "" };
                table.add_row(vec![
                    current.to_owned(),
                    p.name.clone(),
                    p.lifecycle.as_str().to_owned(),
                    output::time(p.created_at),
                    first_line(&p.description),
                ]);
            }
            output::print_table(&table)
        }
        ProjectCommand::Show { name } => {
            let project = ctx.store.get_project(&name).await?;
            show(ctx, &project)
        }
        ProjectCommand::Use { name } => {
            // Only a project that exists can become the current one.
            let project = ctx.store.get_project(&name).await?;
            let path = ctx
                .config
                .file
                .clone()
                .unwrap_or_else(|| PathBuf::from(CONFIG_FILE));
            config::write_project(&path, &project.name)?;
            if ctx.json {
                return output::print_json(&project);
            }
            output::println_flush(&format!(
                "Now using project '{}' (written to {})",
                project.name,
                path.display()
            ))
        }
        ProjectCommand::Archive { name } => {
            let project = ctx
                .store
                .set_project_lifecycle(&name, Lifecycle::Archived)
                .await?;
            done(ctx, &project, "archived")
        }
        ProjectCommand::Unarchive { name } => {
            let project = ctx
                .store
                .set_project_lifecycle(&name, Lifecycle::Active)
                .await?;
            done(ctx, &project, "unarchived")
        }
    }
}

fn done(ctx: &Ctx, project: &Project, what: &str) -> Result<()> {
    if ctx.json {
        return output::print_json(project);
    }
    output::println_flush(&format!("Project '{}' {what}", project.name))
}

fn show(ctx: &Ctx, project: &Project) -> Result<()> {
    if ctx.json {
        return output::print_json(project);
    }
    output::print_table(&output::details([
        ("name", project.name.clone()),
        ("state", project.lifecycle.as_str().to_owned()),
        ("description", project.description.clone()),
        ("created", output::time(project.created_at)),
        ("updated", output::time(project.updated_at)),
    ]))
}

/// The first line of a description, for one-line table cells.
pub fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 60 {
        let head: String = line.chars().take(59).collect();
        format!("{head}…")
    } else {
        line.to_owned()
    }
}

/// `val_loss:min:best` → a key metric (aggregation `last` when omitted).
fn parse_key_metric(spec: &str) -> Result<runlore_core::KeyMetric> {
    let mut parts = spec.split(':');
    let key = parts.next().unwrap_or_default().to_owned();
    let word = |text: Option<&str>, default: &str| text.unwrap_or(default).to_ascii_lowercase();
    let direction = match word(parts.next(), "").as_str() {
        "min" => runlore_core::MetricGoal::Min,
        "max" => runlore_core::MetricGoal::Max,
        _ => {
            return Err(runlore_core::Error::invalid(format!(
                "--key-metric '{spec}': write KEY:min or KEY:max, optionally :last, :best or :average"
            ))
            .into());
        }
    };
    let aggregation = match word(parts.next(), "last").as_str() {
        "last" => runlore_core::MetricAggregation::Last,
        "best" => runlore_core::MetricAggregation::Best,
        "average" | "avg" | "mean" => runlore_core::MetricAggregation::Average,
        other => {
            return Err(runlore_core::Error::invalid(format!(
                "--key-metric '{spec}': aggregation must be last, best or average, not '{other}'"
            ))
            .into());
        }
    };
    if parts.next().is_some() {
        return Err(runlore_core::Error::invalid(format!(
            "--key-metric '{spec}' has too many parts"
        ))
        .into());
    }
    Ok(runlore_core::KeyMetric {
        key,
        direction,
        aggregation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_metric_specs_parse_with_a_default_aggregation() {
        let m = parse_key_metric("val_loss:min:best").expect("spec");
        assert_eq!(m.key, "val_loss");
        assert_eq!(m.direction, runlore_core::MetricGoal::Min);
        assert_eq!(m.aggregation, runlore_core::MetricAggregation::Best);
        let m = parse_key_metric("acc:MAX").expect("spec");
        assert_eq!(m.aggregation, runlore_core::MetricAggregation::Last);
        for bad in ["acc", "acc:up", "acc:max:median", "acc:max:last:x"] {
            let err = parse_key_metric(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
