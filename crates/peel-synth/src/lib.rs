//! peel-synth (being built)
