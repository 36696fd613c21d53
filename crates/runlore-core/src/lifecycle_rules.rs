//! Which lifecycle changes the domain allows, whatever stores them.

use crate::{Error, ExperimentId, Lifecycle, Result};

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
