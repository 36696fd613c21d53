//! What every backend stores the same way, with no SQL in it: the metric
//! chunk format, chunk summaries, and where a batch's points go among a
//! key's chunks. A database only reads and writes the bytes.

pub mod chunk;
pub mod feature_leaves;
pub mod ingest;
pub mod placement;
pub mod summary;
