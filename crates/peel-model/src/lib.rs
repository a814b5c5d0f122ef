//! peel-model (being built)
