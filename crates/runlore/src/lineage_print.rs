//! Tables for `runlore lineage …` and `runlore gc`.

use anyhow::Result;
use runlore_core::lineage::{GcReport, LineageGraph, VerifyReport};

use crate::{Ctx, output};

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Runs, then files with who made and used them.
pub fn graph(ctx: &Ctx, graph: &LineageGraph) -> Result<()> {
    if ctx.json {
        return output::print_json(graph);
    }
    let mut runs = output::table(["RUN", "NAME", "STATUS", "PROJECT", "DEPTH", "STARTED"]);
    for a in &graph.activities {
        runs.add_row(vec![
            output::short_id(a.run_id.as_str()).to_owned(),
            a.name.clone(),
            a.status.as_str().to_owned(),
            a.project.clone(),
            a.depth.map_or_else(String::new, |d| d.to_string()),
            output::time(a.start_time),
        ]);
    }
    output::print_section("Runs", &runs)?;
    let mut files = output::table(["SHA256", "SIZE", "PATHS", "MADE BY", "USED BY", "DEPTH"]);
    for e in &graph.entities {
        let by = |list: &[runlore_core::lineage::LineageUse]| {
            let mut runs: Vec<&str> = list
                .iter()
                .filter(|u| u.sha256 == e.sha256)
                .map(|u| output::short_id(u.run_id.as_str()))
                .collect();
            runs.sort_unstable();
            runs.dedup();
            runs.join(", ")
        };
        let mut paths = e.paths.join(", ");
        if let Some(uri) = &e.uri {
            paths = format!("{paths} ({uri})");
        }
        files.add_row(vec![
            e.sha256.as_str()[..12].to_owned(),
            e.size.to_string(),
            paths,
            by(&graph.generated),
            by(&graph.used),
            e.depth.map_or_else(String::new, |d| d.to_string()),
        ]);
    }
    println!();
    output::print_section("Files", &files)
}

pub fn verify(ctx: &Ctx, report: &VerifyReport) -> Result<()> {
    if ctx.json {
        return output::print_json(report);
    }
    for p in &report.problems {
        let run = p
            .run_id
            .as_ref()
            .map_or("-", |r| output::short_id(r.as_str()));
        let actual = p
            .actual_sha256
            .as_ref()
            .map_or_else(String::new, |a| format!(" (now {a})"));
        println!(
            "{}: run {run} {} sha256 {}{actual}",
            p.problem.to_uppercase(),
            p.path,
            p.sha256
        );
    }
    println!(
        "{} artifact(s), {} blob(s), {} checked; {} problem(s){}",
        report.artifacts_checked,
        report.blobs_checked,
        mib(report.bytes_checked),
        report.problems.len(),
        if report.external_skipped > 0 {
            format!(
                "; {} external input(s) not held, not checked",
                report.external_skipped
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

pub fn query(ctx: &Ctx, graph: &LineageGraph, kind: &str, since: Option<i64>) -> Result<()> {
    let after = |t: i64| since.is_none_or(|s| t >= s);
    match kind {
        "entity" => {
            let list: Vec<_> = graph
                .entities
                .iter()
                .filter(|e| after(e.first_seen))
                .collect();
            if ctx.json {
                return output::print_json(&list);
            }
            let mut table = output::table(["SHA256", "SIZE", "TYPE", "FIRST SEEN", "PATHS"]);
            for e in list {
                table.add_row(vec![
                    e.sha256.to_string(),
                    e.size.to_string(),
                    e.media_type.clone(),
                    output::time(e.first_seen),
                    e.paths.join(", "),
                ]);
            }
            output::print_table(&table)
        }
        "activity" => {
            let list: Vec<_> = graph
                .activities
                .iter()
                .filter(|a| after(a.start_time))
                .collect();
            if ctx.json {
                return output::print_json(&list);
            }
            let mut table = output::table(["RUN", "NAME", "STATUS", "USER", "STARTED"]);
            for a in list {
                table.add_row(vec![
                    a.run_id.to_string(),
                    a.name.clone(),
                    a.status.as_str().to_owned(),
                    a.user.clone(),
                    output::time(a.start_time),
                ]);
            }
            output::print_table(&table)
        }
        _ => {
            // An agent is as recent as the newest run it is associated with.
            let list: Vec<_> = graph
                .agents
                .iter()
                .filter(|agent| {
                    graph.associations.iter().any(|a| {
                        &a.agent == *agent
                            && graph
                                .activities
                                .iter()
                                .any(|r| r.run_id == a.run_id && after(r.start_time))
                    })
                })
                .collect();
            if ctx.json {
                return output::print_json(&list);
            }
            let mut table = output::table(["KIND", "NAME"]);
            for a in list {
                let kind = match a.kind {
                    runlore_core::lineage::AgentKind::Person => "person",
                    runlore_core::lineage::AgentKind::Software => "software",
                };
                table.add_row(vec![kind.to_owned(), a.name.clone()]);
            }
            output::print_table(&table)
        }
    }
}

pub fn gc(ctx: &Ctx, report: &GcReport) -> Result<()> {
    if ctx.json {
        return output::print_json(report);
    }
    println!(
        "{} blob(s) stored ({}); {} unreferenced ({}){}",
        report.blobs_stored,
        mib(report.bytes_stored),
        report.blobs_unreferenced,
        mib(report.bytes_unreferenced),
        if report.blobs_too_young > 0 {
            format!("; {} too young to remove", report.blobs_too_young)
        } else {
            String::new()
        }
    );
    if report.dry_run {
        println!(
            "dry run: nothing removed (run with --apply to free {})",
            mib(report.bytes_unreferenced)
        );
    } else {
        println!(
            "removed {} blob(s), freed {}",
            report.blobs_removed,
            mib(report.bytes_freed)
        );
    }
    Ok(())
}
