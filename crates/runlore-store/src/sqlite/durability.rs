//! SQLite's `synchronous` setting, named by what it promises.

/// What a committed write survives (SQLite's `synchronous` in WAL mode;
/// what each mode promises and costs: docs/benchmarks.md, "Durability").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL`: every acknowledged write survives a crash or
    /// kill of the server process; a power loss or OS crash may lose the
    /// last writes before a checkpoint (the database stays consistent).
    #[default]
    Process,
    /// `synchronous=FULL`: the WAL is fsynced at every commit, so every
    /// acknowledged write also survives a power loss or OS crash.
    Power,
}

impl Durability {
    pub(super) fn pragma(self) -> &'static str {
        match self {
            Durability::Process => "PRAGMA synchronous = NORMAL;",
            Durability::Power => "PRAGMA synchronous = FULL;",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Process => "process",
            Durability::Power => "power",
        }
    }
}

impl std::str::FromStr for Durability {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Durability, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "process" => Ok(Durability::Process),
            "power" => Ok(Durability::Power),
            other => Err(format!(
                "unknown durability '{other}': expected 'process' (survives a crash of the \
                 server) or 'power' (also survives a power loss)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use super::*;

    fn synchronous(store: &SqliteStore) -> (i64, i64) {
        let level = |conn: &rusqlite::Connection| {
            conn.query_row("PRAGMA synchronous", [], |row| row.get::<_, i64>(0))
                .expect("pragma")
        };
        let writer = level(&store.inner.writer.lock().expect("writer"));
        let reader = store.inner.take_reader().expect("reader");
        let read = level(&reader);
        store.inner.return_reader(reader);
        (writer, read)
    }

    #[test]
    fn each_mode_sets_its_synchronous_level() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = SqliteStore::open(&dir.path().join("default.db")).expect("open");
        assert_eq!(synchronous(&store), (1, 1), "NORMAL by default");
        let store =
            SqliteStore::open_with(&dir.path().join("power.db"), Durability::Power).expect("open");
        assert_eq!(synchronous(&store), (2, 2), "FULL for power");
        assert_eq!("POWER".parse::<Durability>(), Ok(Durability::Power));
        let refused = "fsync".parse::<Durability>().expect_err("unknown mode");
        assert!(
            refused.contains("'process'") && refused.contains("'power'"),
            "{refused}"
        );
    }
}
