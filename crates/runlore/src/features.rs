//! Printing features and feature diffs (`runlore run features|diff|set-parent`).

use anyhow::Result;
use runlore_core::{Graph, GraphNode, ParentChange, RunFeatures};
use serde_json::Value;

use crate::{Ctx, output};

/// One row per RFC 6902 operation: what, where, and the new value.
pub fn print_diff(ctx: &Ctx, diff: &Value) -> Result<()> {
    if ctx.json {
        return output::print_json(diff);
    }
    let ops = diff.as_array().map(Vec::as_slice).unwrap_or_default();
    if ops.is_empty() {
        println!("no differences");
        return Ok(());
    }
    let mut table = output::table(["OP", "PATH", "VALUE"]);
    for op in ops {
        let value = op.get("value").map_or_else(String::new, Value::to_string);
        table.add_row(vec![
            op["op"].as_str().unwrap_or("").to_owned(),
            op["path"].as_str().unwrap_or("").to_owned(),
            value,
        ]);
    }
    output::print_table(&table)
}

pub fn print_features(ctx: &Ctx, features: &RunFeatures) -> Result<()> {
    if ctx.json {
        return output::print_json(features);
    }
    let mut parents = output::table(["PARENT", "KIND", "RESUME STEP"]);
    for p in &features.parents {
        parents.add_row(vec![
            p.run_id.to_string(),
            p.kind.as_str().to_owned(),
            p.resume_step
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
        ]);
    }
    output::print_section("Parents", &parents)?;
    println!("\nRoot: {}", features.root);
    println!("\nFeatures:");
    println!("{}", serde_json::to_string_pretty(&features.full)?);
    println!("\nDiff against the primary parent:");
    print_diff(ctx, &features.diff)
}

/// `runlore run features`: the features, then who changed the parents when.
pub fn print_features_with_history(
    ctx: &Ctx,
    features: &RunFeatures,
    changes: &[ParentChange],
) -> Result<()> {
    if ctx.json {
        let mut value = serde_json::to_value(features)?;
        value["changes"] = serde_json::to_value(changes)?;
        return output::print_json(&value);
    }
    print_features(ctx, features)?;
    if changes.is_empty() {
        return Ok(());
    }
    let ids = |links: &[runlore_core::ParentLink]| {
        let ids: Vec<&str> = links
            .iter()
            .map(|l| output::short_id(l.run_id.as_str()))
            .collect();
        if ids.is_empty() {
            "(root)".to_owned()
        } else {
            ids.join(", ")
        }
    };
    let mut table = output::table(["WHEN", "BY", "FROM", "TO"]);
    for change in changes {
        table.add_row(vec![
            output::time(change.changed_at),
            change.changed_by.clone(),
            ids(&change.old_parents),
            ids(&change.new_parents),
        ]);
    }
    println!();
    output::print_section("Parent changes", &table)
}

/// Ancestors (deepest first), the run, then descendants, indented by
/// generation; each line names the edge kinds that lead to it.
pub fn print_tree(ctx: &Ctx, up: &Graph, down: &Graph) -> Result<()> {
    if ctx.json {
        return output::print_json(&serde_json::json!({"ancestors": up, "descendants": down}));
    }
    let line = |node: &GraphNode, depth: u32, marker: &str, kinds: Vec<&str>| {
        let via = if kinds.is_empty() {
            String::new()
        } else {
            format!("  ({})", kinds.join(", "))
        };
        println!(
            "{}{marker}{}  {}  {}{via}",
            "  ".repeat(depth as usize),
            &node.id.as_str()[..8],
            node.name,
            node.status.as_str()
        );
    };
    let mut ancestors: Vec<&GraphNode> = up.nodes.iter().filter(|n| n.depth != Some(0)).collect();
    ancestors.sort_by_key(|n| std::cmp::Reverse(n.depth));
    let top = ancestors.first().and_then(|n| n.depth).unwrap_or(0);
    for node in &ancestors {
        let depth = node.depth.unwrap_or(0);
        let kinds = up
            .edges
            .iter()
            .filter(|e| e.parent == node.id)
            .map(|e| e.kind.as_str())
            .collect();
        line(node, top - depth, "↑ ", kinds);
    }
    if let Some(me) = up.nodes.iter().find(|n| n.depth == Some(0)) {
        line(me, top, "● ", Vec::new());
    }
    let mut descendants: Vec<&GraphNode> =
        down.nodes.iter().filter(|n| n.depth != Some(0)).collect();
    descendants.sort_by_key(|n| n.depth);
    for node in descendants {
        let kinds = down
            .edges
            .iter()
            .filter(|e| e.child == node.id)
            .map(|e| e.kind.as_str())
            .collect();
        line(node, top + node.depth.unwrap_or(0), "↓ ", kinds);
    }
    Ok(())
}
