//! Peel's web page ([`ui`]); the messages it exchanges with its Web Worker (the crate
//! `peel-worker`, which owns the generator) live in `peel-messages`.
//!
//! The page never touches tensors: it sends the worker the photo's file bytes and draws what
//! comes back. Both are built for wasm32 by `scripts/build-web.sh`, each into its own wasm, so
//! the page's carries none of Burn or wgpu; natively this crate is an empty shell.

pub use peel_messages::*;

#[cfg(target_arch = "wasm32")]
pub mod ui;

/// The studio's pure logic: paint everything, folders, the history (issue 34).
pub mod studio;
