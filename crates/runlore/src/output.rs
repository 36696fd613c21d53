//! How results reach the terminal: tables for people, JSON for scripts, and
//! readable times, durations and numbers.

use std::io::Write;

use anyhow::{Context, Result};
use comfy_table::{ContentArrangement, Table, TableComponent, presets};
use serde::Serialize;

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot encode JSON")?;
    println_flush(&text)
}

/// Prints a line on stdout and flushes it (tests and scripts read it live).
pub fn println_flush(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")
}

/// A table with the given header, borderless like `docker ps`.
pub fn table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .remove_style(TableComponent::LeftBorder)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

/// A two-column `key  value` table for one entity.
pub fn details<'a, I>(rows: I) -> Table
where
    I: IntoIterator<Item = (&'a str, String)>,
{
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .remove_style(TableComponent::LeftBorder)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (key, value) in rows {
        table.add_row(vec![format!("{key}:"), value]);
    }
    table
}

pub fn print_table(table: &Table) -> Result<()> {
    println_flush(&trim_lines(&table.to_string()))
}

/// Prints a section title then the table, or `(none)` when it is empty.
pub fn print_section(title: &str, table: &Table) -> Result<()> {
    println_flush("")?;
    println_flush(&format!("{title}:"))?;
    if table.row_count() == 0 {
        println_flush("  (none)")
    } else {
        print_table(table)
    }
}

/// comfy-table pads every cell, leaving a blank before the first column and
/// trailing blanks on each line.
fn trim_lines(text: &str) -> String {
    text.lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

pub use runlore_core::repro::display::{duration, number, optional_time, time};

/// The first 8 characters of an id, as tables show it.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_ids_are_eight_characters() {
        assert_eq!(super::short_id("0123456789abcdef"), "01234567");
        assert_eq!(super::short_id("abc"), "abc");
    }
}
