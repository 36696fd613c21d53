//! The cases, by area. Each takes a fresh store.

pub mod catalog;
pub mod features;
pub mod runs;
pub mod search;
//
// A new case is added here and to the list in `conformance_suite!`
// (lib.rs), which is what runs it on every backend.
