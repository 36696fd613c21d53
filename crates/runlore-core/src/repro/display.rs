//! How reports (and the CLI's tables) write times, durations and metric
//! values, so both say the same thing the same way.

use time::OffsetDateTime;
use time::macros::format_description;

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
    }
}
