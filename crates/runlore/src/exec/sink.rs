//! Where `runlore exec` records a run: the store (a data dir or a server),
//! or, when the server cannot be reached at start, a journal on local disk
//! in the SDK's format, which `runlore sync` ships later. The command runs
//! either way: a researcher on a node without the server loses nothing.

use std::sync::Arc;

use anyhow::Result;
use runlore_core::{LogBatch, MetadataStore, NewRun, Run, RunId, RunPatch, RunStatus};

use crate::journal::{EXEC_SUFFIX, JournalWriter};
use crate::run_files::RunFiles;

pub struct Sink {
    pub files: RunFiles,
    to: Target,
}

enum Target {
    Store(Arc<dyn MetadataStore>),
    Journal(Arc<JournalWriter>),
}

impl Sink {
    pub fn online(store: Arc<dyn MetadataStore>, files: RunFiles) -> Sink {
        Sink {
            files,
            to: Target::Store(store),
        }
    }

    /// Starts the journal of a new run under `root` (its id chosen here)
    /// and returns the run as the store would have made it.
    pub fn offline(root: &std::path::Path, mut new: NewRun) -> Result<(Sink, Run)> {
        let id = RunId::generate();
        new.id = Some(id.clone());
        let now = runlore_core::time::now_ms();
        new.start_time.get_or_insert(now);
        let journal = Arc::new(JournalWriter::create(root, &id, EXEC_SUFFIX)?);
        journal.create_run(&new)?;
        // The SDK in the command journals the same run under its own
        // folder; should it reach the server first, its `create` makes the
        // run and this one's becomes a no-op. Params and tags then still
        // arrive through this record.
        journal.log(&LogBatch {
            params: new.params.clone(),
            tags: new.tags.clone(),
            ..LogBatch::default()
        })?;
        let run = Run {
            id,
            project: new.project.clone(),
            experiment_id: runlore_core::ExperimentId::new(0),
            experiment: new
                .experiment
                .clone()
                .unwrap_or_else(|| runlore_core::DEFAULT_EXPERIMENT.to_owned()),
            name: new.name.clone().unwrap_or_default(),
            status: new.status.unwrap_or(RunStatus::Running),
            lifecycle: runlore_core::Lifecycle::Active,
            start_time: new.start_time,
            end_time: None,
            user: new.user.clone().unwrap_or_default(),
            parent_run_id: None,
            params: new.params.clone(),
            tags: new.tags.clone(),
            metrics: Vec::new(),
            inputs: Vec::new(),
            model_outputs: Vec::new(),
            components: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let sink = Sink {
            files: RunFiles::journal(Arc::clone(&journal)),
            to: Target::Journal(journal),
        };
        Ok((sink, run))
    }

    /// The journal's folder when offline.
    pub fn journal_folder(&self) -> Option<&std::path::Path> {
        match &self.to {
            Target::Journal(journal) => Some(journal.folder()),
            Target::Store(_) => None,
        }
    }

    pub async fn log_batch(&self, id: &RunId, batch: LogBatch) -> Result<()> {
        match &self.to {
            Target::Store(store) => {
                store.log_batch(id, batch).await?;
            }
            Target::Journal(journal) => journal.log(&batch)?,
        }
        Ok(())
    }

    /// The run's final status (the end time now when not given).
    pub async fn end(&self, id: &RunId, status: RunStatus, end_time: Option<i64>) -> Result<()> {
        match &self.to {
            Target::Store(store) => {
                let patch = RunPatch {
                    status: Some(status),
                    end_time,
                    ..RunPatch::default()
                };
                store.update_run(id, patch).await?;
            }
            Target::Journal(journal) => {
                journal.finish(status, end_time.unwrap_or_else(runlore_core::time::now_ms))?;
            }
        }
        Ok(())
    }
}
