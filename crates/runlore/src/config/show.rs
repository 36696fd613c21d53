//! `runlore config show`: the resolved configuration for people (a table
//! of each setting, its value and where it came from) or as JSON.

use std::path::Path;

use anyhow::Result;

use super::{Config, Source};

/// `runlore config show`: each setting, its value and where it came from.
pub fn show(config: &Config, json: bool) -> Result<()> {
    if json {
        return crate::output::print_json(config);
    }
    let shown = |path: &Path| path.display().to_string();
    let rows: [(&str, String, &Source); 9] = [
        (
            "server",
            config
                .server
                .value
                .clone()
                .unwrap_or_else(|| "(local)".into()),
            &config.server.source,
        ),
        (
            "data_dir",
            shown(&config.data_dir.value),
            &config.data_dir.source,
        ),
        ("db", db_shown(config), &config.db.source),
        (
            "project",
            config.project.value.clone(),
            &config.project.source,
        ),
        ("host", config.host.value.clone(), &config.host.source),
        ("port", config.port.value.to_string(), &config.port.source),
        (
            "ui_dir",
            config
                .ui_dir
                .value
                .as_deref()
                .map_or_else(|| "(embedded)".into(), shown),
            &config.ui_dir.source,
        ),
        (
            "artifacts",
            config
                .artifacts
                .value
                .clone()
                .unwrap_or_else(|| shown(&config.data_dir.value.join("blobs"))),
            &config.artifacts.source,
        ),
        (
            "public_names",
            if config.public_names.value.is_empty() {
                "(none)".into()
            } else {
                config.public_names.value.join(", ")
            },
            &config.public_names.source,
        ),
    ];
    let mut table = crate::output::table(["SETTING", "VALUE", "FROM"]);
    for (name, value, source) in rows {
        table.add_row(vec![name.to_owned(), value, source.to_string()]);
    }
    crate::output::print_table(&table)?;
    let file = config
        .file
        .as_deref()
        .map_or_else(|| "(none)".into(), shown);
    crate::output::println_flush(&format!("\nconfig file: {file}"))
}

/// The database as `config show` prints it: the URL without its password,
/// and for `sqlite:` the file it names.
fn db_shown(config: &Config) -> String {
    let location = &config.db.value.0;
    match location {
        runlore_store::DbLocation::SqliteInDataDir => format!(
            "sqlite: ({})",
            config
                .data_dir
                .value
                .join(runlore_store::SQLITE_FILE)
                .display()
        ),
        other => other.to_string(),
    }
}
