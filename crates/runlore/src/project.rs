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
        } => {
            let settings = if clear_naming || naming_pattern.is_some() {
                let parent_from: runlore_core::ParentFrom =
                    serde_json::from_value(serde_json::Value::String(parent_from.clone()))
                        .map_err(|_| {
                            runlore_core::Error::invalid(format!(
                                "--parent-from must be group, explicit or none, not '{parent_from}'"
                            ))
                        })?;
                let naming = naming_pattern.map(|pattern| runlore_core::NamingRule {
                    pattern,
                    parent_from,
                    enforce: enforce_naming,
                });
                let new = runlore_core::ProjectSettings { naming };
                ctx.store.set_project_settings(&name, new).await?
            } else {
                ctx.store.project_settings(&name).await?
            };
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
