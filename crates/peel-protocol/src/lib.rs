//! peel-protocol (being built)
