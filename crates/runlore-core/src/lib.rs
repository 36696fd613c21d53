//! Runlore's domain: the vocabulary every transport (native API, MLflow API,
//! CLI) shares, the validation rules, the filter language and the storage
//! traits. Nothing in here does I/O.

pub mod artifact;
pub mod artifact_service;
pub mod blob;
pub mod cursor;
pub mod downsample;
pub mod error;
pub mod features_file;
pub mod filter;
pub mod graph;
pub mod ids;
pub mod lifecycle_rules;
pub mod lineage;
pub mod logged_model;
pub mod model;
pub mod names;
pub mod naming_rule;
pub mod prov;
pub mod repro;
pub mod settings;
pub mod store;
pub mod time;
pub mod validate;
pub mod validated;

pub use artifact::{
    Artifact, ArtifactDirection, ArtifactEntry, ArtifactOwner, ModelId, NewArtifact,
};
pub use blob::{BlobCheck, BlobInfo, BlobStore, ByteStream, Sha256Hex};
pub use error::{Error, ErrorKind, Result};
pub use graph::{
    Direction, EdgeKind, Graph, GraphEdge, GraphNode, KeyMetric, MetricAggregation, MetricGoal,
    NamingRule, ParentChange, ParentFrom, ParentLink, ProjectSettings, RunFeatures,
};
pub use ids::{ExperimentId, RunId};
pub use logged_model::*;
pub use model::*;
pub use settings::SettingsUpdate;
pub use store::{ArtifactIndex, MetadataStore, ModelStore};
pub use validated::Validated;
