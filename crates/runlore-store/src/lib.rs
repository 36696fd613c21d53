//! Metadata stores behind [`runlore_core::MetadataStore`].
