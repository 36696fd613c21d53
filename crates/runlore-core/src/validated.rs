//! The domain's input rules, once, in front of every backend.
//!
//! [`Validated`] wraps a store and checks what a caller asks for (names,
//! keys, values, sizes, settings, lifecycle changes, artifact paths) before
//! the backend sees it; the backend keeps only the invariants it alone can
//! see (uniqueness, existence, immutability of params). The store factory
//! (`runlore_store::open`) hands out backends wrapped in it, so SQLite and
//! PostgreSQL refuse the same inputs with the same messages, and a backend
//! never carries a copy of the rules.

mod index;
mod metadata;

/// A store whose every write is checked by the domain's rules first. It
/// implements each store trait its inner store does.
pub struct Validated<S> {
    inner: S,
}

impl<S> Validated<S> {
    pub fn new(inner: S) -> Validated<S> {
        Validated { inner }
    }

    /// The backend itself, for what only it offers (its own maintenance).
    pub fn inner(&self) -> &S {
        &self.inner
    }
}
