//! Typed client of the Runlore native API (`/api/v1`).
//!
//! [`HttpStore`] implements [`runlore_core::MetadataStore`], so the CLI's
//! remote mode and the embedded store share every command, and errors keep
//! the kind and message the server sent ([`runlore_core::Error`] is this
//! crate's error type too).

mod artifacts;
mod http;
pub mod render;
mod store;
mod verify;

pub use http::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, HttpStore};
pub use store::MetricHistory;
