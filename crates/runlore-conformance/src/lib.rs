//! The store conformance suite: behaviour every `MetadataStore` must show,
//! written once and run unchanged on each backend.
//!
//! A test crate names a function that opens a fresh, empty store and
//! invokes [`conformance_suite!`]; each case becomes one `#[tokio::test]`:
//!
//! ```ignore
//! async fn open() -> Option<runlore_conformance::Opened> { … }
//! runlore_conformance::conformance_suite!(open);
//! ```
//!
//! Instances: SQLite (`runlore-store/tests/conformance.rs`), PostgreSQL
//! (`runlore-store/tests/postgres_conformance.rs`, on the throwaway
//! cluster) and `HttpStore` over a real server
//! (`runlore-client/tests/conformance.rs`).

#![allow(clippy::unwrap_used)] // the cases are tests: a failed step panics

pub mod cases;
pub mod support;

use std::any::Any;
use std::sync::Arc;

use runlore_core::MetadataStore;

/// A fresh store and whatever keeps it alive (a temporary folder, a
/// server, a database), dropped when the case ends.
pub struct Opened {
    pub store: Arc<dyn MetadataStore>,
    pub guard: Box<dyn Any + Send>,
}

impl Opened {
    pub fn new(store: Arc<dyn MetadataStore>, guard: impl Any + Send) -> Opened {
        Opened {
            store,
            guard: Box::new(guard),
        }
    }
}

/// One `#[tokio::test]` per case, each on a store `$open().await` gives
/// (`Some(Opened)`, or `None` when the backend cannot be reached).
#[macro_export]
macro_rules! conformance_suite {
    ($open:path) => {
        $crate::conformance_suite!(@cases $open;
            catalog::default_project_and_experiment_exist,
            catalog::projects_are_created_listed_and_archived,
            catalog::experiments_rename_delete_restore_and_page,
            runs::runs_create_their_experiment_and_follow_status_rules,
            runs::params_are_immutable_and_a_conflict_rejects_the_whole_batch,
            runs::history_is_sorted_deduplicated_and_range_readable,
            search::special_values_survive_storage,
            search::search_filters_orders_and_pages_in_sql,
            search::search_pages_cover_every_run_once,
            search::pages_ordered_by_several_keys_match_the_expected_order,
            features::a_client_chosen_id_makes_creation_repeatable,
            features::components_are_replaced_by_name_and_need_reasons,
            features::feature_diffs_replay_to_what_was_logged,
        );
    };
    (@cases $open:path; $($group:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                // `None`: the backend is not there to test (the function
                // says why; CI never lets that pass).
                let Some(opened): Option<$crate::Opened> = $open().await else {
                    return;
                };
                $crate::cases::$group::$case(opened.store.clone()).await;
                drop(opened);
            }
        )*
    };
}
