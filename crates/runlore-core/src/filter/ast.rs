//! The filter and ordering syntax tree.

use serde::{Deserialize, Serialize};

/// A boolean filter expression. The parser groups a chain `a AND b AND c …`
/// into a balanced tree (AND and OR are associative), so the depth stays
/// logarithmic in the length of the chain; consumers must not rely on any
/// particular grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Comparison),
}

/// `field op value`, e.g. `metrics.acc >= 0.9`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub field: Field,
    pub op: CompareOp,
    pub value: Operand,
}

/// What a comparison or an order key looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    /// `metrics.<key>`: the latest value of a metric (a number).
    Metric(String),
    /// `params.<key>` (also `param.`): a string.
    Param(String),
    /// `tags.<key>` (also `tag.`): a string.
    Tag(String),
    /// `attributes.<name>` (also `attribute.`, `attr.`, `run.`), or a bare
    /// attribute name.
    Attribute(Attribute),
    /// `datasets.<name|digest|context>` (also `dataset.`): matches when any
    /// dataset input of the run matches. Not orderable.
    Dataset(DatasetField),
    /// `features.<path>` (also `feature.`, `config.`): a value in the run's
    /// features tree. The path's parts are separated by dots
    /// (`features.model.lr`), or it is a JSON Pointer when it starts with
    /// `/` (`features.\`/model/lr\``); an all-digit part indexes an array.
    /// Numbers compare with JSON numbers and strings with JSON strings;
    /// `'true'` and `'false'` match JSON booleans.
    Feature(String),
}

/// What a `datasets.` comparison looks at: a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DatasetField {
    Name,
    Digest,
    /// The `mlflow.data.context` tag of the input (`training`, `eval` …).
    Context,
}

impl DatasetField {
    pub fn name(self) -> &'static str {
        match self {
            DatasetField::Name => "name",
            DatasetField::Digest => "digest",
            DatasetField::Context => "context",
        }
    }
}

/// Run attributes that can be filtered and ordered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Attribute {
    /// `run_id` (also `run_uuid`, `id`): string.
    RunId,
    /// `run_name` (also `name`): string.
    RunName,
    /// `status`: string, one of the run statuses.
    Status,
    /// `start_time`: number, milliseconds since the epoch.
    StartTime,
    /// `end_time`: number, milliseconds since the epoch.
    EndTime,
    /// `created` (also `created_at`, `creation_time`): number, milliseconds
    /// since the epoch.
    Created,
    /// `updated` (also `updated_at`, `last_update_time`): number,
    /// milliseconds since the epoch of the last change.
    Updated,
    /// `experiment_id`: string.
    ExperimentId,
    /// `artifact_uri`: string, where the run's artifacts are addressed
    /// (`<experiment artifact location>/<run id>/artifacts`).
    ArtifactUri,
    /// `user` (also `user_id`): string.
    User,
}

impl Attribute {
    pub const ALL: [Attribute; 10] = [
        Attribute::RunId,
        Attribute::RunName,
        Attribute::Status,
        Attribute::StartTime,
        Attribute::EndTime,
        Attribute::Created,
        Attribute::Updated,
        Attribute::ExperimentId,
        Attribute::ArtifactUri,
        Attribute::User,
    ];

    /// The canonical spelling in the filter language; the parser also
    /// accepts the aliases listed on each variant.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::RunId => "run_id",
            Attribute::RunName => "run_name",
            Attribute::Status => "status",
            Attribute::StartTime => "start_time",
            Attribute::EndTime => "end_time",
            Attribute::Created => "created",
            Attribute::Updated => "updated",
            Attribute::ExperimentId => "experiment_id",
            Attribute::ArtifactUri => "artifact_uri",
            Attribute::User => "user",
        }
    }

    /// Whether the attribute is compared as a number (else as a string).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Attribute::StartTime | Attribute::EndTime | Attribute::Created | Attribute::Updated
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// SQL LIKE with `%` and `_`, case-sensitive.
    Like,
    /// LIKE, case-insensitive.
    ILike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// For `IS NULL` / `IS NOT NULL`.
    None,
    /// Always finite.
    Number(f64),
    /// Status values are canonical (`FINISHED`; `SCHEDULED` becomes
    /// `PLANNED`), except as LIKE/ILIKE patterns, which are kept as written.
    String(String),
    /// For `IN` / `NOT IN`: non-empty, and every element has the same type.
    List(Vec<Literal>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    Number(f64),
    String(String),
}

/// One `order_by` key: `metrics.loss ASC`, `attributes.start_time DESC`.
/// Runs that lack the key always sort last, whatever the direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrderKey {
    pub field: Field,
    pub descending: bool,
}
