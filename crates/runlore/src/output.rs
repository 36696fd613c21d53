//! How results reach the terminal: tables for people, JSON for scripts, and
//! readable times, durations and numbers.

use std::io::Write;

use anyhow::{Context, Result};
use comfy_table::{ContentArrangement, Table, TableComponent, presets};
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

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

/// Milliseconds since the epoch as `2025-01-31 14:05:09` (UTC).
pub fn time(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

pub fn optional_time(ms: Option<i64>) -> String {
    ms.map(time).unwrap_or_else(|| "-".to_owned())
}

/// A duration in milliseconds as `850ms`, `12.3s`, `4m 05s`, `2h 03m`, `3d 04h`.
pub fn duration(ms: i64) -> String {
    if ms < 0 {
        return "-".to_owned();
    }
    let secs = ms / 1000;
    match secs {
        _ if ms < 1000 => format!("{ms}ms"),
        0..60 => format!("{:.1}s", ms as f64 / 1000.0),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// A metric value, short: 4 significant digits, exponent for very large or
/// small magnitudes.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let magnitude = v.abs();
    if v == 0.0 || (1e-3..1e6).contains(&magnitude) {
        if v.fract() == 0.0 {
            return format!("{v}");
        }
        let decimals = (3 - magnitude.log10().floor() as i32).clamp(0, 6) as usize;
        let text = format!("{v:.decimals$}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_owned()
    } else {
        format!("{v:.3e}")
    }
}

/// The first 8 characters of an id, as tables show it.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_well() {
        assert_eq!(time(0), "1970-01-01 00:00:00");
        assert_eq!(time(1_700_000_000_123), "2023-11-14 22:13:20");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(12_345), "12.3s");
        assert_eq!(duration(245_000), "4m 05s");
        assert_eq!(duration(7_380_000), "2h 03m");
        assert_eq!(duration(273_600_000), "3d 04h");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(1234.5678), "1235");
        assert_eq!(number(0.00001234), "1.234e-5");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(short_id("0123456789abcdef"), "01234567");
    }
}
