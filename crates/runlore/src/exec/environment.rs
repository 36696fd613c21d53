//! Where a run ran: OS, machine, Python and its installed packages, GPUs.
//! The same document the Python SDK writes to the tag
//! `runlore.environment`, so runs look alike however they were started.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// Variables worth keeping (never the whole environment: it holds secrets).
const KEPT_VARS: [&str; 6] = [
    "CUDA_VISIBLE_DEVICES",
    "VIRTUAL_ENV",
    "CONDA_DEFAULT_ENV",
    "PYTHONPATH",
    "OMP_NUM_THREADS",
    "PYTHONHASHSEED",
];

pub struct Environment {
    pub document: Value,
    /// `pip freeze` output; `None` without a Python.
    pub requirements: Option<String>,
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The Python whose packages matter: the command's own interpreter when
/// it is one (`.venv/bin/python train.py`), else the first on PATH, which
/// is what `python train.py` would start.
fn python(command: Option<&str>) -> Option<String> {
    let own = command.filter(|c| {
        let name = Path::new(c)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        name.starts_with("python")
    });
    own.into_iter()
        .chain(["python3", "python"])
        .find(|p| output(p, &["--version"]).is_some())
        .map(str::to_owned)
}

/// Takes a second or two (`pip freeze`): call it off the async threads.
/// `command` is the program run, as it will be started (relative paths
/// resolved against its working directory).
pub fn capture(command: Option<String>) -> Environment {
    let mut doc = json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "kernel": output("uname", &["-sr"]),
        "hostname": output("uname", &["-n"]),
        "cpu_count": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "memory_bytes": memory_bytes(),
        "user": std::env::var("USER").ok(),
        "runlore_version": env!("CARGO_PKG_VERSION"),
    });
    let vars: serde_json::Map<String, Value> = KEPT_VARS
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), json!(v))))
        .collect();
    doc["env"] = Value::Object(vars);
    let mut requirements = None;
    if let Some(py) = python(command.as_deref()) {
        let py = py.as_str();
        doc["python"] = json!({
            "executable": output(py, &["-c", "import sys; print(sys.executable)"]),
            "version": output(py, &["-c", "import sys; print(sys.version.split()[0])"]),
        });
        requirements = output(py, &["-m", "pip", "freeze", "--disable-pip-version-check"]);
        if requirements.is_some() {
            doc["packages"] = json!(super::record::REQUIREMENTS_PATH);
        }
    }
    if let Some(gpus) = output(
        "nvidia-smi",
        &[
            "--query-gpu=name,uuid,memory.total,driver_version",
            "--format=csv,noheader,nounits",
        ],
    ) {
        let list: Vec<Value> = gpus
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').map(str::trim).collect();
                json!({"name": f.first(), "uuid": f.get(1), "memory_mib": f.get(2), "driver": f.get(3)})
            })
            .collect();
        doc["gpus"] = Value::Array(list);
    }
    Environment {
        document: doc,
        requirements,
    }
}

fn memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
