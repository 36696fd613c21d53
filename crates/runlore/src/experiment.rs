//! `runlore experiment …`

use anyhow::Result;
use runlore_core::store::{ExperimentQuery, MAX_PAGE_SIZE};
use runlore_core::validate;
use runlore_core::{
    Error, ErrorKind, Experiment, ExperimentId, Lifecycle, LifecycleView, NewExperiment,
};

use crate::Ctx;
use crate::cli::ExperimentCommand;
use crate::project::first_line;
use crate::{output, paging};

pub async fn run(ctx: &Ctx, command: ExperimentCommand) -> Result<()> {
    match command {
        ExperimentCommand::Create { name, description } => {
            validate::display_name("experiment", &name)?;
            validate::description(&description)?;
            let experiment = ctx
                .store
                .create_experiment(NewExperiment {
                    project: ctx.project().to_owned(),
                    name,
                    description,
                    tags: Default::default(),
                    artifact_location: None,
                })
                .await?;
            done(ctx, &experiment, "created")
        }
        ExperimentCommand::List {
            all,
            name_contains,
            limit,
        } => list(ctx, all, name_contains, limit).await,
        ExperimentCommand::Show { experiment } => {
            let experiment = resolve(ctx, &experiment).await?;
            show(ctx, &experiment)
        }
        ExperimentCommand::Rename {
            experiment,
            new_name,
        } => {
            validate::display_name("experiment", &new_name)?;
            let old = resolve(ctx, &experiment).await?;
            let renamed = ctx.store.rename_experiment(old.id, &new_name).await?;
            if ctx.json {
                return output::print_json(&renamed);
            }
            output::println_flush(&format!(
                "Experiment {} renamed from '{}' to '{}'",
                renamed.id, old.name, renamed.name
            ))
        }
        ExperimentCommand::Delete { experiment } => {
            let found = resolve(ctx, &experiment).await?;
            let deleted = ctx
                .store
                .set_experiment_lifecycle(found.id, Lifecycle::Deleted)
                .await?;
            done(
                ctx,
                &deleted,
                "deleted (restore it with `runlore experiment restore`)",
            )
        }
        ExperimentCommand::Restore { experiment } => {
            let found = resolve(ctx, &experiment).await?;
            let restored = ctx
                .store
                .set_experiment_lifecycle(found.id, Lifecycle::Active)
                .await?;
            done(ctx, &restored, "restored")
        }
    }
}

/// An experiment named in the current project, or else with that id.
pub async fn resolve(ctx: &Ctx, id_or_name: &str) -> Result<Experiment> {
    let by_name = ctx
        .store
        .get_experiment_by_name(ctx.project(), id_or_name)
        .await;
    match by_name {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let Ok(id) = ExperimentId::parse(id_or_name) else {
                return Err(not_found(ctx, id_or_name).into());
            };
            match ctx.store.get_experiment(id).await {
                Err(e) if e.kind() == ErrorKind::NotFound => Err(not_found(ctx, id_or_name).into()),
                other => Ok(other?),
            }
        }
        other => Ok(other?),
    }
}

fn not_found(ctx: &Ctx, id_or_name: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!(
            "experiment '{id_or_name}' not found in project '{}' (by name or id)",
            ctx.project()
        ),
    )
}

async fn list(ctx: &Ctx, all: bool, name_contains: Option<String>, limit: usize) -> Result<()> {
    let query = ExperimentQuery {
        project: Some(ctx.project().to_owned()),
        view: if all {
            LifecycleView::All
        } else {
            LifecycleView::Active
        },
        name_contains,
        limit: limit.clamp(1, MAX_PAGE_SIZE),
        cursor: None,
    };
    let (experiments, more) = paging::collect(limit, |cursor| {
        let mut page_query = query.clone();
        page_query.cursor = cursor;
        ctx.store.list_experiments(page_query)
    })
    .await?;
    if experiments.is_empty() {
        // An empty list of a project that does not exist is a mistake.
        ctx.store.get_project(ctx.project()).await?;
    }
    if ctx.json {
        return output::print_json(&experiments);
    }
    if experiments.is_empty() {
        return output::println_flush(&format!(
            "No experiments found in project '{}'",
            ctx.project()
        ));
    }
    let mut table = output::table(["ID", "NAME", "STATE", "CREATED (UTC)", "DESCRIPTION"]);
    for e in &experiments {
        table.add_row(vec![
            e.id.to_string(),
            e.name.clone(),
            e.lifecycle.as_str().to_owned(),
            output::time(e.created_at),
            first_line(&e.description),
        ]);
    }
    output::print_table(&table)?;
    if more {
        eprintln!("(more experiments exist: raise --limit to see them)");
    }
    Ok(())
}

fn done(ctx: &Ctx, experiment: &Experiment, what: &str) -> Result<()> {
    if ctx.json {
        return output::print_json(experiment);
    }
    output::println_flush(&format!(
        "Experiment '{}' (id {}) in project '{}' {what}",
        experiment.name, experiment.id, experiment.project
    ))
}

fn show(ctx: &Ctx, experiment: &Experiment) -> Result<()> {
    if ctx.json {
        return output::print_json(experiment);
    }
    output::print_table(&output::details([
        ("id", experiment.id.to_string()),
        ("name", experiment.name.clone()),
        ("project", experiment.project.clone()),
        ("state", experiment.lifecycle.as_str().to_owned()),
        ("description", experiment.description.clone()),
        ("created", output::time(experiment.created_at)),
        ("updated", output::time(experiment.updated_at)),
    ]))?;
    let mut tags = output::table(["KEY", "VALUE"]);
    for (k, v) in &experiment.tags {
        tags.add_row(vec![k.clone(), v.clone()]);
    }
    output::print_section("Tags", &tags)
}
