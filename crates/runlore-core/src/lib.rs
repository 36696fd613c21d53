//! Runlore's domain: the vocabulary every transport (native API, MLflow API,
//! CLI) shares, the validation rules, the filter language and the storage
//! traits. Nothing in here does I/O.

pub mod cursor;
pub mod downsample;
pub mod error;
pub mod filter;
pub mod ids;
pub mod model;
pub mod names;
pub mod store;
pub mod time;
pub mod validate;

pub use error::{Error, ErrorKind, Result};
pub use ids::{ExperimentId, RunId};
pub use model::*;
pub use store::MetadataStore;
