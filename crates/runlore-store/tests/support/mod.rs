//! Helpers the store's test files share.
#![allow(clippy::unwrap_used, dead_code)] // test helpers panic on failure by design

use std::sync::Arc;

use runlore_core::MetadataStore;

/// A fresh store on a real SQLite file in a temporary data dir.
pub fn open() -> (tempfile::TempDir, Arc<dyn MetadataStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    (dir, store)
}

#[allow(unused_imports)] // each test binary uses some of them
pub use runlore_conformance::support::{all_pages, search_in};
