//! Lineage: which runs produced and used which bytes. Runs are activities,
//! stored blobs (and external files known by hash) are entities, users and
//! programs are agents; the run DAG says which run informed which. One
//! graph type serves every question (`show`, `trace`, `export`, `query`);
//! `crate::prov` renders it as W3C PROV.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::blob::Sha256Hex;
use crate::error::{Error, Result};
use crate::graph::EdgeKind;
use crate::ids::RunId;
use crate::model::RunStatus;

mod json;
pub use json::{AgentRef, GraphRef, InformedRef, UseRef, to_json, write_json};

/// What a lineage question is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineageScope {
    /// One run: what it used and made, the runs that made its inputs, and
    /// the runs it was informed by.
    Run(RunId),
    /// Every run of a project with everything they used and made.
    Project(String),
    /// Everything that touched one blob: who made it, who used it.
    Blob(Sha256Hex),
    /// From a blob, up (what it was made from, to any depth) or down (what
    /// was made from it).
    Trace {
        sha256: Sha256Hex,
        direction: TraceDirection,
        depth: u32,
    },
}

/// Upstream (`up`: producers and their inputs) or downstream (`down`:
/// consumers and their outputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TraceDirection {
    Up,
    Down,
}

impl TraceDirection {
    pub fn parse(text: &str) -> Result<TraceDirection> {
        match text.to_ascii_lowercase().as_str() {
            "up" => Ok(TraceDirection::Up),
            "down" => Ok(TraceDirection::Down),
            other => Err(Error::invalid(format!(
                "direction must be 'up' or 'down', not '{other}'"
            ))),
        }
    }
}

/// Deepest trace asked for; deeper questions are cut here.
pub const MAX_TRACE_DEPTH: u32 = 10_000;

/// A run as an activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LineageActivity {
    #[schema(value_type = String)]
    pub run_id: RunId,
    pub name: String,
    pub project: String,
    pub experiment: String,
    pub status: RunStatus,
    pub user: String,
    pub start_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Hops from the traced blob (traces only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}

/// Bytes known by their SHA-256: a stored blob, or an external file
/// recorded by hash and location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineageEntity {
    #[schema(value_type = String)]
    pub sha256: Sha256Hex,
    pub size: u64,
    pub media_type: String,
    /// Every path the bytes were logged under, sorted.
    pub paths: Vec<String>,
    /// Where an external input lives (`s3://…`, `file:///…`), when it was
    /// recorded by reference rather than uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// When Runlore first saw these bytes (ms since the epoch).
    pub first_seen: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// The user a run was logged by.
    Person,
    /// The program that ran (the entry point MLflow or the SDK recorded).
    Software,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct LineageAgent {
    pub kind: AgentKind,
    pub name: String,
}

/// A run read (`used`) or wrote (`generated`) a blob at a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineageUse {
    #[schema(value_type = String)]
    pub run_id: RunId,
    #[schema(value_type = String)]
    pub sha256: Sha256Hex,
    pub path: String,
    pub time: i64,
}

/// The later run was informed by the earlier one (a DAG edge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineageInformed {
    #[schema(value_type = String)]
    pub run_id: RunId,
    #[schema(value_type = String)]
    pub informant: RunId,
    pub kind: EdgeKind,
}

/// A run and an agent responsible for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineageAssociation {
    #[schema(value_type = String)]
    pub run_id: RunId,
    pub agent: LineageAgent,
}

/// Activities, entities and agents with the relations between them. Lists
/// are sorted so the same question always gives the same document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LineageGraph {
    pub activities: Vec<LineageActivity>,
    pub entities: Vec<LineageEntity>,
    pub agents: Vec<LineageAgent>,
    pub used: Vec<LineageUse>,
    pub generated: Vec<LineageUse>,
    pub informed: Vec<LineageInformed>,
    pub associations: Vec<LineageAssociation>,
}

impl LineageGraph {
    /// Sorts every list and derives the agents from the associations, so
    /// stores only have to collect.
    pub fn finish(mut self) -> LineageGraph {
        self.activities.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        self.activities.dedup_by(|a, b| a.run_id == b.run_id);
        self.entities.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        for entity in &mut self.entities {
            entity.paths.sort();
            entity.paths.dedup();
        }
        self.entities.dedup_by(|a, b| a.sha256 == b.sha256);
        for list in [&mut self.used, &mut self.generated] {
            list.sort_by(|a, b| {
                (&a.run_id, &a.sha256, &a.path).cmp(&(&b.run_id, &b.sha256, &b.path))
            });
            list.dedup();
        }
        self.informed
            .sort_by(|a, b| (&a.run_id, &a.informant).cmp(&(&b.run_id, &b.informant)));
        self.informed.dedup();
        self.associations
            .sort_by(|a, b| (&a.run_id, &a.agent).cmp(&(&b.run_id, &b.agent)));
        self.associations.dedup();
        let mut agents: Vec<LineageAgent> =
            self.associations.iter().map(|a| a.agent.clone()).collect();
        agents.sort();
        agents.dedup();
        self.agents = agents;
        self
    }
}

/// `runlore gc`: what garbage collection found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GcReport {
    /// Nothing was removed; the figures say what would be.
    pub dry_run: bool,
    pub blobs_stored: u64,
    pub bytes_stored: u64,
    /// Blobs no artifact row refers to (old enough to remove).
    pub blobs_unreferenced: u64,
    pub bytes_unreferenced: u64,
    /// Unreferenced but younger than the grace period: an upload may be
    /// about to record them, so they stay.
    pub blobs_too_young: u64,
    pub blobs_removed: u64,
    pub bytes_freed: u64,
}

/// One artifact whose bytes are not what was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerifyProblem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub run_id: Option<RunId>,
    pub path: String,
    #[schema(value_type = String)]
    pub sha256: Sha256Hex,
    /// `missing` (gone from storage) or `corrupt` (bytes changed).
    pub problem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub actual_sha256: Option<Sha256Hex>,
}

/// `runlore lineage verify`: every blob re-hashed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerifyReport {
    pub artifacts_checked: u64,
    pub blobs_checked: u64,
    pub bytes_checked: u64,
    /// External inputs recorded by reference, which Runlore cannot re-hash.
    pub external_skipped: u64,
    pub problems: Vec<VerifyProblem>,
}
