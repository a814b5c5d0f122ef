//! Peel's web app. Built for wasm32 by Trunk; see README.md.
