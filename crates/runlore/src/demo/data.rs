//! The demo's data: params from features, metric curves, logs, CSVs and a
//! PNG written without an image library.

use runlore_core::{ComponentReport, ComponentStatus, MetricPoint, MetricValue, RunStatus};
use serde_json::Value;

use super::{STEPS, Spec};

/// The features flattened to `a.b` params (as `runlore exec` does).
pub(super) fn params_of(features: &Value) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    fn walk(prefix: &str, v: &Value, out: &mut std::collections::BTreeMap<String, String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::String(s) => {
                out.insert(prefix.to_owned(), s.clone());
            }
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    walk("", features, &mut out);
    out
}

/// A small deterministic noise source (no dependency, same data each time).
fn noise(seed: u64, n: i64) -> f64 {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005)
        ^ (n as u64).wrapping_mul(1_442_695_040_888_963_407);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x % 10_000) as f64 / 10_000.0 - 0.5
}

/// loss, acc every step and val_loss, val_acc every 10: exponential decay
/// towards the spec's final values with noise; the failed run diverges.
pub(super) fn curves(spec: &Spec, index: usize, start: i64) -> Vec<MetricPoint> {
    let seed = index as u64 + 1;
    let (final_loss, final_acc) = if spec.status == RunStatus::Failed {
        (0.5, 0.8)
    } else {
        (spec.final_loss, spec.final_acc)
    };
    let last = if spec.status == RunStatus::Failed {
        120
    } else {
        STEPS
    };
    let mut points = Vec::new();
    let mut point = |key: &str, value: f64, step: i64| {
        points.push(MetricPoint {
            key: key.to_owned(),
            value: MetricValue(value),
            step,
            timestamp: Some(start + step * 2_000),
        });
    };
    for step in 1..=last {
        let t = step as f64 / 60.0;
        let mut loss = final_loss + (2.3 - final_loss) * (-t).exp() + 0.04 * noise(seed, step);
        let acc = (0.1 + (final_acc - 0.1) * (1.0 - (-t).exp()) + 0.01 * noise(seed + 99, step))
            .clamp(0.0, 1.0);
        if spec.status == RunStatus::Failed && step > 90 {
            loss *= 1.0 + (step - 90) as f64 * 0.3;
            if step == last {
                loss = f64::NAN;
            }
        }
        point("loss", loss, step);
        point("acc", acc, step);
        if step % 10 == 0 {
            point(
                "val_loss",
                loss * 1.08 + 0.03 + 0.02 * noise(seed + 7, step),
                step,
            );
            point("val_acc", (acc - 0.02).max(0.0), step);
        }
        point(
            "lr",
            0.1 * (0.5 * (1.0 + (std::f64::consts::PI * step as f64 / STEPS as f64).cos())),
            step,
        );
    }
    points
}

pub(super) fn components(failed: bool) -> Vec<ComponentReport> {
    let report = |name: &str, status, reason: &str| ComponentReport {
        name: name.into(),
        status,
        reason: reason.into(),
    };
    vec![
        report(
            "train",
            if failed {
                ComponentStatus::Failed
            } else {
                ComponentStatus::Success
            },
            if failed { "loss became NaN" } else { "" },
        ),
        report(
            "export_onnx",
            ComponentStatus::Disabled,
            "off for sweeps (export.onnx=false)",
        ),
    ]
}

pub(super) fn stdout_log(spec: &Spec, failed: bool) -> String {
    let mut log = format!("starting {} on cuda:0\n", spec.name);
    let epochs = if failed { 12 } else { 30 };
    for epoch in 1..=epochs {
        let loss = spec.final_loss.max(0.5) + 1.8 * (-(epoch as f64) / 6.0).exp();
        log.push_str(&format!(
            "epoch {epoch:>3}/30  loss {loss:.4}  {:.1} img/s\n",
            2400.0 + 30.0 * noise(3, epoch)
        ));
    }
    log.push_str(if failed {
        "loss is NaN, stopping\n"
    } else {
        "done\n"
    });
    log
}

pub(super) fn per_class_csv(spec: &Spec, index: usize) -> String {
    let classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];
    let mut csv = "class,precision,recall,f1\n".to_owned();
    for (c, name) in classes.iter().enumerate() {
        let p = (spec.final_acc + 0.06 * noise(index as u64, c as i64)).min(0.99);
        let r = (spec.final_acc + 0.06 * noise(index as u64 + 50, c as i64)).min(0.99);
        csv.push_str(&format!(
            "{name},{p:.3},{r:.3},{:.3}\n",
            2.0 * p * r / (p + r)
        ));
    }
    csv
}

pub(super) fn split_csv() -> String {
    let mut csv = "index,split\n".to_owned();
    for i in 0..200 {
        csv.push_str(&format!(
            "{i},{}\n",
            if i % 5 == 0 { "val" } else { "train" }
        ));
    }
    csv
}

/// A 10×10 confusion matrix drawn as a 100×100 PNG: the diagonal sharpens
/// as training goes on.
pub(super) fn confusion_png(run: usize, step: i64) -> Vec<u8> {
    let (w, h) = (100usize, 100usize);
    let sharp = step as f64 / STEPS as f64;
    let mut raw = Vec::with_capacity((w * 3 + 1) * h);
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            let (cy, cx) = (y / 10, x / 10);
            let v = if cy == cx {
                0.3 + 0.7 * sharp
            } else {
                0.35 * (1.0 - sharp) * (0.5 + noise(run as u64, (cy * 10 + cx) as i64))
            };
            let v = (v.clamp(0.0, 1.0) * 255.0) as u8;
            raw.extend_from_slice(&[255 - v / 2, 255 - v, 200u8.saturating_sub(v / 3)]);
        }
    }
    png(w as u32, h as u32, &raw)
}

/// An RGB PNG with the image data in stored (uncompressed) deflate blocks.
fn png(width: u32, height: u32, raw: &[u8]) -> Vec<u8> {
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    for (kind, data) in [(b"IHDR", &ihdr), (b"IDAT", &zlib), (b"IEND", &Vec::new())] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xedb8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn png_starts_with_the_signature_and_ends_with_iend() {
        let png = super::confusion_png(0, 100);
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
    }
}
