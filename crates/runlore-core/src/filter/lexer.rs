//! Tokens of the filter language (to be written).
