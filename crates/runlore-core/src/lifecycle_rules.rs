//! Which lifecycle and status changes the domain allows, whatever stores
//! them: backends call these inside their transactions, on the stored row.

use crate::{Error, ExperimentId, Lifecycle, Result, Run, RunPatch, RunStatus};

/// Experiments are deleted and restored, never archived, and MLflow's
/// Default experiment is never deleted.
pub fn check_experiment_change(id: ExperimentId, lifecycle: Lifecycle) -> Result<()> {
    if lifecycle == Lifecycle::Archived {
        return Err(Error::invalid(
            "experiments are deleted and restored, not archived",
        ));
    }
    if id == ExperimentId::DEFAULT && lifecycle == Lifecycle::Deleted {
        return Err(Error::invalid("the Default experiment cannot be deleted"));
    }
    Ok(())
}

/// Runs are deleted and restored, never archived.
pub fn check_run_change(lifecycle: Lifecycle) -> Result<()> {
    if lifecycle == Lifecycle::Archived {
        return Err(Error::invalid(
            "runs are deleted and restored, not archived",
        ));
    }
    Ok(())
}

/// A run's fields after a patch, as the store writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchedRun {
    pub name: String,
    pub status: RunStatus,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
}

/// Applies `patch` to the stored run at time `now`: a terminal status ends
/// the run (keeping an end time it already had), a live one clears the end
/// time, a planned run that starts gets its start time, and an end before
/// the start is refused.
pub fn patch_run(current: &Run, patch: &RunPatch, now: i64) -> Result<PatchedRun> {
    let status = patch.status.unwrap_or(current.status);
    let end_time = match (patch.end_time, patch.status) {
        (Some(t), _) => Some(t),
        (None, Some(s)) if s.is_terminal() => current.end_time.or(Some(now)),
        (None, Some(_)) => None,
        (None, None) => current.end_time,
    };
    let start_time = match current.start_time {
        None if status != RunStatus::Planned => Some(now),
        other => other,
    };
    if let (Some(start), Some(end)) = (start_time, end_time)
        && end < start
    {
        return Err(Error::invalid(format!(
            "end_time {end} is before the run's start_time {start}"
        )));
    }
    Ok(PatchedRun {
        name: patch.name.clone().unwrap_or_else(|| current.name.clone()),
        status,
        start_time,
        end_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archiving_and_deleting_the_default_are_refused() {
        let other = ExperimentId::new(7);
        assert!(check_experiment_change(other, Lifecycle::Deleted).is_ok());
        assert!(check_experiment_change(other, Lifecycle::Active).is_ok());
        assert!(check_experiment_change(ExperimentId::DEFAULT, Lifecycle::Active).is_ok());
        let archived = check_experiment_change(other, Lifecycle::Archived).unwrap_err();
        assert_eq!(
            archived.message(),
            "experiments are deleted and restored, not archived"
        );
        let default =
            check_experiment_change(ExperimentId::DEFAULT, Lifecycle::Deleted).unwrap_err();
        assert_eq!(
            default.message(),
            "the Default experiment cannot be deleted"
        );
    }
}
