//! The Runlore HTTP server.
