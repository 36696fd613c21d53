//! Code snapshots: the exact source tree a run started from, kept as the
//! run's artifacts under `runlore/code/` with a manifest, so that
//! `runlore run restore --to DIR` can rebuild it byte for byte.
//!
//! Inside a git repository the tree is "what git sees": tracked files plus
//! untracked files no ignore rule covers. Files that differ from HEAD,
//! untracked files, and (when HEAD may not be reachable later) the files of
//! the commit too, are stored whole; a git diff is kept beside them for
//! people. Outside git, the files under the working directory are taken by
//! the same include/exclude policy. Every file is hashed, stored or not, so
//! a restored tree can be checked against the captured one.

mod capture;
mod git;
mod policy;
pub mod verify;

pub use capture::{capture, upload};
pub use git::git_ok;
pub use policy::{Policy, load as load_policy};

pub use runlore_core::repro::manifest::{
    FileEntry, GitInfo, Kind, Manifest, Origin, path_repr, sha256_hex, tree_digest,
};
pub use runlore_core::repro::{CODE_PREFIX, DIFF_PATH, MANIFEST_PATH, MANIFEST_VERSION};
