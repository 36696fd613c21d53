//! Printing `runlore artifact diff A B [PATH]`.

use anyhow::Result;
use runlore_core::artifact_service::ArtifactDiff;

use crate::{Ctx, output};

pub fn print(ctx: &Ctx, diff: &ArtifactDiff) -> Result<()> {
    if ctx.json {
        return output::print_json(diff);
    }
    let mut table = output::table(["", "PATH", "BEFORE", "AFTER"]);
    let short =
        |sha: &runlore_core::Sha256Hex, size: u64| format!("{} ({size} B)", &sha.as_str()[..12]);
    for a in &diff.removed {
        table.add_row(vec![
            "-".into(),
            a.path.clone(),
            short(&a.sha256, a.size),
            String::new(),
        ]);
    }
    for a in &diff.added {
        table.add_row(vec![
            "+".into(),
            a.path.clone(),
            String::new(),
            short(&a.sha256, a.size),
        ]);
    }
    for c in &diff.changed {
        table.add_row(vec![
            "~".into(),
            c.path.clone(),
            short(&c.before.sha256, c.before.size),
            short(&c.after.sha256, c.after.size),
        ]);
    }
    output::print_table(&table)?;
    println!("{} unchanged", diff.unchanged);
    // Side by side, the way a reviewer reads a config change.
    for c in &diff.changed {
        let Some(lines) = &c.lines else { continue };
        println!("\n{}:", c.path);
        let width = lines
            .iter()
            .map(|l| l.text.chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        for line in lines {
            let (left, mark, right) = match line.tag.as_str() {
                "delete" => (line.text.as_str(), "<", ""),
                "insert" => ("", ">", line.text.as_str()),
                _ => (line.text.as_str(), " ", line.text.as_str()),
            };
            let left: String = left.chars().take(width).collect();
            println!("{left:<width$} {mark} {right}");
        }
    }
    Ok(())
}
