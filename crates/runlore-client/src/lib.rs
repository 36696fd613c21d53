//! Typed client of the Runlore native API.
