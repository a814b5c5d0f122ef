//! File formats used by the CLI (being built).
