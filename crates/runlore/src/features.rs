//! Printing features and feature diffs (`runlore run features|diff|set-parent`).

use anyhow::Result;
use runlore_core::RunFeatures;
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
    println!("\nFeatures:");
    println!("{}", serde_json::to_string_pretty(&features.full)?);
    println!("\nDiff against the primary parent:");
    print_diff(ctx, &features.diff)
}
