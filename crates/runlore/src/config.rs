//! All of the CLI's configuration, in one place. Each setting is resolved in
//! this order, later winning: built-in default, `runlore.toml` (the current
//! directory's, or `--config PATH`), `RUNLORE_*` environment variables, flags.
//! Loading never writes a file; only `runlore project use` writes
//! `runlore.toml` (see [`write_project`]).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// The config file looked for in the current directory.
pub const CONFIG_FILE: &str = "runlore.toml";
pub const DEFAULT_DATA_DIR: &str = "./runlore-data";
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 5000;

/// Every environment variable Runlore's CLI reads, with its `runlore.toml` key.
pub const ENV_SERVER: &str = "RUNLORE_SERVER";
pub const ENV_DATA_DIR: &str = "RUNLORE_DATA_DIR";
pub const ENV_DB: &str = "RUNLORE_DB";
pub const ENV_HOST: &str = "RUNLORE_HOST";
pub const ENV_PORT: &str = "RUNLORE_PORT";
pub const ENV_PROJECT: &str = "RUNLORE_PROJECT";
pub const ENV_UI_DIR: &str = "RUNLORE_UI_DIR";
pub const ENV_ARTIFACTS: &str = "RUNLORE_ARTIFACTS";
/// Comma-separated host names the server answers to besides loopback.
pub const ENV_PUBLIC_NAME: &str = "RUNLORE_PUBLIC_NAME";
/// Log filter (`tracing` syntax, e.g. `info,runlore_server=debug`).
pub const ENV_LOG: &str = "RUNLORE_LOG";

/// `(toml key, env var, meaning)` for every setting; `config show` and the
/// help text list these.
pub const SETTINGS: [(&str, &str, &str); 9] = [
    (
        "server",
        ENV_SERVER,
        "URL of a Runlore server; empty or unset: the local data dir",
    ),
    (
        "data_dir",
        ENV_DATA_DIR,
        "local data dir (default ./runlore-data)",
    ),
    (
        "db",
        ENV_DB,
        "metadata database: sqlite: (default, <data_dir>/runlore.db), sqlite:PATH, or \
         postgres://user:password@host:port/database",
    ),
    (
        "project",
        ENV_PROJECT,
        "current project (default \"default\")",
    ),
    (
        "host",
        ENV_HOST,
        "address `runlore server` binds (default 127.0.0.1)",
    ),
    (
        "port",
        ENV_PORT,
        "port `runlore server` binds (default 5000; 0 picks a free one)",
    ),
    (
        "ui_dir",
        ENV_UI_DIR,
        "serve the web UI from this folder instead of the embedded one",
    ),
    (
        "artifacts",
        ENV_ARTIFACTS,
        "where `runlore server` keeps artifact bytes: a folder or s3://bucket/prefix \
         (default <data_dir>/blobs)",
    ),
    (
        "public_names",
        ENV_PUBLIC_NAME,
        "host names (name or name:port) `runlore server` answers to besides localhost and \
         loopback addresses, e.g. behind a proxy; other Host headers are refused",
    ),
];

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Source {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Flag => f.write_str("flag"),
        }
    }
}

/// A resolved value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Setting<T> {
    fn new(value: T, source: Source) -> Setting<T> {
        Setting { value, source }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// `None`: work on the local data dir.
    pub server: Setting<Option<String>>,
    pub data_dir: Setting<PathBuf>,
    /// The metadata database; `sqlite:` is `<data_dir>/runlore.db`.
    pub db: Setting<DbUrl>,
    pub project: Setting<String>,
    pub host: Setting<String>,
    pub port: Setting<u16>,
    pub ui_dir: Setting<Option<PathBuf>>,
    /// A folder or `s3://bucket/prefix`; `None`: `<data_dir>/blobs`.
    pub artifacts: Setting<Option<String>>,
    /// Names the server answers to besides loopback (`Host` checks).
    pub public_names: Setting<Vec<String>>,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// Problems worth telling (unknown keys), printed to stderr.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// What the command line said; `None` leaves the setting to the layers below.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub server: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// `--db URL`, not yet parsed (a bad one is an invalid-argument error).
    pub db: Option<String>,
    pub project: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub ui_dir: Option<PathBuf>,
    pub artifacts: Option<String>,
    /// `--public-name`, repeatable; empty leaves the setting to the layers below.
    pub public_names: Vec<String>,
}

/// Loads the configuration from the real environment and current directory.
pub fn load(flags: &Flags) -> Result<Config> {
    load_from(flags, Path::new(CONFIG_FILE), &|name| {
        std::env::var(name).ok()
    })
}

/// Loads with an explicit default config path and environment (for tests).
pub fn load_from(
    flags: &Flags,
    default_file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config> {
    let mut config = Config {
        server: Setting::new(None, Source::Default),
        data_dir: Setting::new(PathBuf::from(DEFAULT_DATA_DIR), Source::Default),
        db: Setting::new(DbUrl::default(), Source::Default),
        project: Setting::new(runlore_core::DEFAULT_PROJECT.to_owned(), Source::Default),
        host: Setting::new(DEFAULT_HOST.to_owned(), Source::Default),
        port: Setting::new(DEFAULT_PORT, Source::Default),
        ui_dir: Setting::new(None, Source::Default),
        artifacts: Setting::new(None, Source::Default),
        public_names: Setting::new(Vec::new(), Source::Default),
        file: None,
        warnings: Vec::new(),
    };
    apply_file(&mut config, flags.config.as_deref(), default_file)?;
    apply_env(&mut config, env)?;
    apply_flags(&mut config, flags)?;
    Ok(config)
}

fn apply_file(config: &mut Config, explicit: Option<&Path>, default_file: &Path) -> Result<()> {
    let path = match explicit {
        Some(path) => path,
        None if default_file.is_file() => default_file,
        None => return Ok(()),
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
    let source = Source::File(path.to_owned());
    // Relative paths in a file are relative to the file's folder.
    let base = path.parent().unwrap_or(Path::new(""));
    for (key, value) in &table {
        let wrong_type = |expected: &str| {
            anyhow::anyhow!(
                "invalid config file {}: '{key}' must be {expected}",
                path.display()
            )
        };
        match key.as_str() {
            "server" => {
                let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
                config.server = Setting::new(non_empty(text), source.clone());
            }
            "data_dir" => {
                let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
                config.data_dir = Setting::new(base.join(text), source.clone());
            }
            "db" => {
                let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
                let location = parse_db(text, &format!("{} (db)", path.display()))?;
                config.db = Setting::new(DbUrl(location.relative_to(base)), source.clone());
            }
            "project" => {
                let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
                config.project = Setting::new(text.to_owned(), source.clone());
            }
            "host" => {
                let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
                config.host = Setting::new(text.to_owned(), source.clone());
            }
            "port" => {
                let port = value
                    .as_integer()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| wrong_type("an integer from 0 to 65535"))?;
                config.port = Setting::new(port, source.clone());
            }
            "ui_dir" => {
                let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
                config.ui_dir = Setting::new(Some(base.join(text)), source.clone());
            }
            "artifacts" => {
                let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
                config.artifacts = Setting::new(Some(artifacts_at(base, text)), source.clone());
            }
            "public_names" => {
                let names = match value {
                    toml::Value::String(text) => split_names(text),
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|item| item.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| wrong_type("a list of strings"))?,
                    _ => return Err(wrong_type("a list of strings")),
                };
                config.public_names = Setting::new(names, source.clone());
            }
            // Read by `runlore exec` (crate::snapshot::Policy), not a setting.
            "snapshot" => {}
            other => config.warnings.push(format!(
                "{}: unknown key '{other}' ignored (known keys: {})",
                path.display(),
                SETTINGS.map(|s| s.0).join(", ")
            )),
        }
    }
    config.file = Some(path.to_owned());
    Ok(())
}

fn apply_env(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    // An empty RUNLORE_SERVER means "local", so it can undo a file's server.
    if let Some(text) = env(ENV_SERVER) {
        config.server = Setting::new(non_empty(&text), Source::Env(ENV_SERVER));
    }
    let set = |name: &'static str| env(name).filter(|v| !v.trim().is_empty());
    if let Some(text) = set(ENV_DATA_DIR) {
        config.data_dir = Setting::new(PathBuf::from(text), Source::Env(ENV_DATA_DIR));
    }
    if let Some(text) = set(ENV_DB) {
        config.db = Setting::new(DbUrl(parse_db(&text, ENV_DB)?), Source::Env(ENV_DB));
    }
    if let Some(text) = set(ENV_PROJECT) {
        config.project = Setting::new(text, Source::Env(ENV_PROJECT));
    }
    if let Some(text) = set(ENV_HOST) {
        config.host = Setting::new(text, Source::Env(ENV_HOST));
    }
    if let Some(text) = set(ENV_PORT) {
        let Ok(port) = text.trim().parse::<u16>() else {
            bail!("invalid {ENV_PORT} '{text}': expected an integer from 0 to 65535");
        };
        config.port = Setting::new(port, Source::Env(ENV_PORT));
    }
    if let Some(text) = set(ENV_UI_DIR) {
        config.ui_dir = Setting::new(Some(PathBuf::from(text)), Source::Env(ENV_UI_DIR));
    }
    if let Some(text) = set(ENV_ARTIFACTS) {
        config.artifacts = Setting::new(Some(text), Source::Env(ENV_ARTIFACTS));
    }
    if let Some(text) = set(ENV_PUBLIC_NAME) {
        config.public_names = Setting::new(split_names(&text), Source::Env(ENV_PUBLIC_NAME));
    }
    Ok(())
}

fn apply_flags(config: &mut Config, flags: &Flags) -> Result<()> {
    if let Some(server) = &flags.server {
        config.server = Setting::new(non_empty(server), Source::Flag);
    }
    if let Some(dir) = &flags.data_dir {
        config.data_dir = Setting::new(dir.clone(), Source::Flag);
    }
    if let Some(text) = &flags.db {
        config.db = Setting::new(DbUrl(parse_db(text, "--db")?), Source::Flag);
    }
    if let Some(project) = &flags.project {
        config.project = Setting::new(project.clone(), Source::Flag);
    }
    if let Some(host) = &flags.host {
        config.host = Setting::new(host.clone(), Source::Flag);
    }
    if let Some(port) = flags.port {
        config.port = Setting::new(port, Source::Flag);
    }
    if let Some(dir) = &flags.ui_dir {
        config.ui_dir = Setting::new(Some(dir.clone()), Source::Flag);
    }
    if let Some(location) = &flags.artifacts {
        config.artifacts = Setting::new(non_empty(location), Source::Flag);
    }
    if !flags.public_names.is_empty() {
        config.public_names = Setting::new(flags.public_names.clone(), Source::Flag);
    }
    Ok(())
}

/// The `db` setting: a parsed location that shows (in `config show`, its
/// JSON and logs) without any password.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbUrl(pub runlore_store::DbLocation);

impl Serialize for DbUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Parses a `db` URL; the error stays a `runlore_core::Error` (exit code 2)
/// and says which setting held it.
fn parse_db(text: &str, from: &str) -> Result<runlore_store::DbLocation> {
    runlore_store::DbLocation::parse(text)
        .map_err(|e| runlore_core::Error::new(e.kind(), format!("{from}: {}", e.message())).into())
}

/// `a.example, b.example:8443` as a list (empty items dropped).
fn split_names(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A relative folder in the config file is relative to the file; URLs
/// (`s3://…`, `file://…`) stay as written.
fn artifacts_at(base: &Path, text: &str) -> String {
    if text.contains("://") {
        text.to_owned()
    } else {
        base.join(text).to_string_lossy().into_owned()
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Sets `project = "NAME"` in the config file at `path` (created when
/// missing), keeping every other line, comments included. The one place the
/// CLI writes configuration.
pub fn write_project(path: &Path, project: &str) -> Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let new =
        with_project(&old, project).with_context(|| format!("cannot update {}", path.display()))?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, new).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The text of a config file with its top-level `project` set.
fn with_project(old: &str, project: &str) -> Result<String> {
    let line = format!("project = {}", toml::Value::String(project.to_owned()));
    let mut lines: Vec<String> = old.lines().map(str::to_owned).collect();
    let first_table = lines
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .unwrap_or(lines.len());
    let existing = lines[..first_table].iter().position(|l| {
        l.split_once('=')
            .is_some_and(|(key, _)| key.trim() == "project")
    });
    match existing {
        Some(i) => lines[i] = line,
        None => lines.insert(first_table, line),
    }
    let mut text = lines.join("\n");
    text.push('\n');
    // Line editing cannot see multi-line strings; fall back to a rewrite
    // (which drops comments) if it did not give the intended file.
    let parsed: Option<toml::Table> = toml::from_str(&text).ok();
    if parsed
        .as_ref()
        .and_then(|t| t.get("project"))
        .and_then(toml::Value::as_str)
        == Some(project)
    {
        return Ok(text);
    }
    let mut table: toml::Table = toml::from_str(old).context("it is not valid TOML")?;
    table.insert("project".into(), toml::Value::String(project.to_owned()));
    Ok(toml::to_string(&table)?)
}

mod show;
#[cfg(test)]
mod tests;

pub use show::show;
