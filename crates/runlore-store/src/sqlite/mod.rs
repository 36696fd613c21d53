//! The embedded SQLite store. One writer connection (SQLite allows one
//! writer at a time anyway) and a small pool of readers, which WAL lets run
//! beside the writer. Every call runs on tokio's blocking pool so the async
//! server never stalls on disk.

mod artifacts;
mod chunk_summary;
mod downsample;
mod durability;
mod experiments;
mod graph;
mod lineage;
mod metrics;
mod migrate;
mod models;
mod placement;
mod projects;
mod runs;
mod search;
mod summaries;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use runlore_core::store::{ExperimentQuery, MetricRange, RunQuery};
use runlore_core::*;
use rusqlite::{Connection, OpenFlags};

pub use durability::Durability;
pub use migrate::LATEST_VERSION as SCHEMA_VERSION;

/// Readers kept open between calls; more are opened on demand under load.
const IDLE_READERS: usize = 4;

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    durability: Durability,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// Maps a database failure: a database that is busy, locked by another
/// process or cannot be opened is `Unavailable` (the server answers 503 and
/// a client may retry); anything else is internal (its text goes to logs
/// only). The driver's text stays in the message as the cause.
pub(crate) fn db_err(e: rusqlite::Error) -> Error {
    if is_unavailable(&e) {
        return Error::new(
            ErrorKind::Unavailable,
            format!("the database is busy or cannot be opened; try again (sqlite: {e})"),
        );
    }
    Error::internal(format!("sqlite: {e}"))
}

/// SQLITE_BUSY, SQLITE_LOCKED and SQLITE_CANTOPEN: conditions that pass
/// (another process's transaction ends, a disk comes back), not bugs.
fn is_unavailable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen)
    )
}

/// [`db_err`] for opening the file, naming it.
fn open_err(path: &Path, e: rusqlite::Error) -> Error {
    let err = db_err(e);
    Error::new(
        err.kind(),
        format!(
            "cannot open database '{}': {}",
            path.display(),
            err.message()
        ),
    )
}

impl SqliteStore {
    /// How long a write waits for another connection's lock before failing
    /// as `Unavailable` (10 s unless set; tests set it short).
    pub fn with_busy_timeout(self, timeout: std::time::Duration) -> Result<SqliteStore> {
        self.inner
            .writer
            .lock()
            .map_err(|_| Error::internal("sqlite writer lock poisoned"))?
            .busy_timeout(timeout)
            .map_err(db_err)?;
        Ok(self)
    }
}

fn configure(conn: &Connection, durability: Durability) -> Result<()> {
    // WAL: readers never block the writer. synchronous=NORMAL in WAL mode
    // keeps every committed transaction across a crash of the process;
    // FULL also across a power loss (see `Durability`).
    // Reads go through the memory map, so each connection's own page cache
    // can stay small (2 MiB): with five connections, a 16 MiB cache each
    // was most of the server's resident memory after an ingest.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA cache_size = -2048;
         PRAGMA mmap_size = 1073741824;
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(db_err)?;
    conn.execute_batch(durability.pragma()).map_err(db_err)
}

impl SqliteStore {
    /// Opens (creating when missing) the database file and migrates it.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, Durability::default())
    }

    /// [`SqliteStore::open`] with a chosen durability.
    pub fn open_with(path: &Path, durability: Durability) -> Result<SqliteStore> {
        let mut writer = Connection::open(path).map_err(|e| open_err(path, e))?;
        configure(&writer, durability)?;
        migrate::migrate(&mut writer)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                durability,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        blocking(move || {
            let mut conn = inner
                .writer
                .lock()
                .map_err(|_| Error::internal("sqlite writer lock poisoned"))?;
            f(&mut conn)
        })
        .await
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        blocking(move || {
            let conn = inner.take_reader()?;
            let out = f(&conn);
            inner.return_reader(conn);
            out
        })
        .await
    }
}

impl Inner {
    fn take_reader(&self) -> Result<Connection> {
        let pooled = self
            .readers
            .lock()
            .map_err(|_| Error::internal("sqlite reader pool poisoned"))?
            .pop();
        if let Some(conn) = pooled {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        configure(&conn, self.durability)?;
        conn.execute_batch("PRAGMA query_only = ON")
            .map_err(db_err)?;
        Ok(conn)
    }

    fn return_reader(&self, conn: Connection) {
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < IDLE_READERS
        {
            pool.push(conn);
        }
    }
}

async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("store task failed: {e}")))?
}

#[async_trait]
impl MetadataStore for SqliteStore {
    async fn create_project(&self, new: NewProject) -> Result<Project> {
        self.write(move |c| projects::create(c, &new)).await
    }

    async fn get_project(&self, name: &str) -> Result<Project> {
        let name = name.to_owned();
        self.read(move |c| projects::get(c, &name)).await
    }

    async fn list_projects(&self, view: LifecycleView) -> Result<Vec<Project>> {
        self.read(move |c| projects::list(c, view)).await
    }

    async fn set_project_lifecycle(&self, name: &str, lifecycle: Lifecycle) -> Result<Project> {
        let name = name.to_owned();
        self.write(move |c| projects::set_lifecycle(c, &name, lifecycle))
            .await
    }

    async fn project_settings(&self, name: &str) -> Result<runlore_core::ProjectSettings> {
        let name = name.to_owned();
        self.read(move |c| projects::settings(c, &name)).await
    }

    async fn set_project_settings(
        &self,
        name: &str,
        settings: runlore_core::ProjectSettings,
    ) -> Result<runlore_core::ProjectSettings> {
        let name = name.to_owned();
        self.write(move |c| projects::set_settings(c, &name, &settings))
            .await
    }

    async fn create_experiment(&self, new: NewExperiment) -> Result<Experiment> {
        self.write(move |c| experiments::create(c, &new)).await
    }

    async fn get_experiment(&self, id: ExperimentId) -> Result<Experiment> {
        self.read(move |c| experiments::get(c, id)).await
    }

    async fn get_experiment_by_name(&self, project: &str, name: &str) -> Result<Experiment> {
        let (project, name) = (project.to_owned(), name.to_owned());
        self.read(move |c| experiments::get_by_name(c, &project, &name))
            .await
    }

    async fn list_experiments(&self, query: ExperimentQuery) -> Result<Page<Experiment>> {
        self.read(move |c| experiments::list(c, &query)).await
    }

    async fn rename_experiment(&self, id: ExperimentId, new_name: &str) -> Result<Experiment> {
        let new_name = new_name.to_owned();
        self.write(move |c| experiments::rename(c, id, &new_name))
            .await
    }

    async fn set_experiment_lifecycle(
        &self,
        id: ExperimentId,
        lifecycle: Lifecycle,
    ) -> Result<Experiment> {
        self.write(move |c| experiments::set_lifecycle(c, id, lifecycle))
            .await
    }

    async fn set_experiment_tag(&self, id: ExperimentId, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |c| experiments::set_tag(c, id, &key, &value))
            .await
    }

    async fn delete_experiment_tag(&self, id: ExperimentId, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.write(move |c| experiments::delete_tag(c, id, &key))
            .await
    }

    async fn create_run(&self, new: NewRun) -> Result<Run> {
        self.write(move |c| runs::create(c, new)).await
    }

    async fn get_run(&self, id: &RunId) -> Result<Run> {
        let id = id.clone();
        self.read(move |c| runs::get(c, &id)).await
    }

    async fn update_run(&self, id: &RunId, patch: RunPatch) -> Result<Run> {
        let id = id.clone();
        self.write(move |c| runs::update(c, &id, &patch)).await
    }

    async fn set_run_lifecycle(&self, id: &RunId, lifecycle: Lifecycle) -> Result<Run> {
        let id = id.clone();
        self.write(move |c| runs::set_lifecycle(c, &id, lifecycle))
            .await
    }

    async fn search_runs(&self, query: RunQuery) -> Result<Page<Run>> {
        self.read(move |c| search::search(c, &query)).await
    }

    async fn delete_run_tag(&self, id: &RunId, key: &str) -> Result<()> {
        let (id, key) = (id.clone(), key.to_owned());
        self.write(move |c| runs::delete_tag(c, &id, &key)).await
    }

    async fn log_batch(&self, id: &RunId, batch: LogBatch) -> Result<LogOutcome> {
        let id = id.clone();
        self.write(move |c| metrics::log_batch(c, &id, batch)).await
    }

    async fn metric_history(&self, id: &RunId, range: MetricRange) -> Result<Vec<HistoryPoint>> {
        let id = id.clone();
        self.read(move |c| metrics::history(c, &id, &range)).await
    }

    async fn downsampled_history(
        &self,
        id: &RunId,
        range: MetricRange,
        max_points: usize,
    ) -> Result<runlore_core::store::SampledHistory> {
        let id = id.clone();
        self.read(move |c| downsample::downsampled(c, &id, &range, max_points))
            .await
    }

    async fn metric_keys(&self, id: &RunId) -> Result<Vec<String>> {
        let id = id.clone();
        self.read(move |c| metrics::keys(c, &id)).await
    }

    async fn feature_trees(&self, ids: &[RunId]) -> Result<Vec<(RunId, serde_json::Value)>> {
        let ids = ids.to_vec();
        self.read(move |c| graph::feature_trees(c, &ids)).await
    }

    async fn metric_summaries(
        &self,
        ids: &[RunId],
        keys: &[String],
    ) -> Result<Vec<runlore_core::MetricSummary>> {
        let (ids, keys) = (ids.to_vec(), keys.to_vec());
        self.read(move |c| summaries::read(c, &ids, &keys)).await
    }

    async fn run_features(&self, id: &RunId) -> Result<runlore_core::RunFeatures> {
        let id = id.clone();
        self.read(move |c| graph::features(c, &id)).await
    }

    async fn parent_changes(&self, id: &RunId) -> Result<Vec<runlore_core::ParentChange>> {
        let id = id.clone();
        self.read(move |c| graph::parent_changes(c, &id)).await
    }

    async fn set_run_parents(
        &self,
        id: &RunId,
        parents: Vec<runlore_core::ParentLink>,
        changed_by: &str,
    ) -> Result<runlore_core::RunFeatures> {
        let id = id.clone();
        let changed_by = changed_by.to_owned();
        self.write(move |c| graph::set_parents(c, &id, &parents, &changed_by))
            .await
    }

    async fn set_run_features(
        &self,
        id: &RunId,
        features: serde_json::Value,
    ) -> Result<runlore_core::RunFeatures> {
        let id = id.clone();
        self.write(move |c| graph::set_features(c, &id, &features))
            .await
    }

    async fn run_lineage(
        &self,
        id: &RunId,
        direction: runlore_core::Direction,
        depth: u32,
    ) -> Result<runlore_core::Graph> {
        let id = id.clone();
        self.read(move |c| graph::lineage(c, &id, direction, depth))
            .await
    }

    async fn project_graph(&self, project: &str) -> Result<runlore_core::Graph> {
        let project = project.to_owned();
        self.read(move |c| graph::project_graph(c, &project)).await
    }
}
