//! The store conformance suite (`runlore-conformance`) on PostgreSQL: each
//! case in a fresh database of the throwaway cluster, behind the same
//! validating wrapper the factory puts in front of every backend.

#![allow(clippy::unwrap_used)] // test helpers panic on failure by design

#[allow(dead_code)] // each test binary uses part of it
mod pg_support;

use std::sync::Arc;

use runlore_conformance::{Opened, conformance_suite};
use runlore_core::Validated;
use runlore_store::PostgresStore;

async fn open() -> Option<Opened> {
    let db = pg_support::FreshDb::create("conformance").await?;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    // The database stays until the cluster goes at the end of the run.
    Some(Opened::new(Arc::new(Validated::new(store)), db.url.clone()))
}

conformance_suite!(open);
