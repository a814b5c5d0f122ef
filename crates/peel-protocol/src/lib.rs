//! # peel-protocol: the visualization protocol
//!
//! Peel's generator answers every perception task with an RGB image; this crate is the contract
//! that turns those images back into values, exactly, following the Vision Banana paper
//! (arXiv 2604.20329). Any image from a Vision-Banana-style generator decodes with it.
//!
//! - [`depth`]: metric depth ↔ colour (power transform + RGB-cube walk).
//! - [`normals`]: surface normals ↔ colour (camera frame, +x right, +y up, +z to the viewer).
//! - [`segmentation`]: semantic, instance and referring masks from prompt-assigned colours.
//! - [`prompt`]: the prompt language, parsed into a typed [`prompt::Request`] and rendered back.
//! - [`color`]: CSS colour names and the numeric colour notations prompts use.
//! - [`metrics`]: the paper's evaluation metrics.
//! - [`decode`]: the one decoder for every task ([`decode::decode_painting`]: a request and its
//!   painting → values, segments and a summary), called by the page's worker and the `peel` CLI.
//! - [`export`]: file bytes of decoded values (depth PNG/npy/PFM, normals npy, label and mask
//!   PNGs, the JSON legend, PLY point clouds), shared by the `peel` CLI and the page.
//! - [`effects`]: photo effects from decoded values (portrait blur from depth, relighting from
//!   normals).
//!
//! Everything is a pure function over pixel buffers (tightly packed, row-major 8-bit RGB unless
//! stated otherwise). No file IO, no threads: the crate builds for `wasm32-unknown-unknown`.
//! Bad input gives a typed error, never a panic.

pub mod color;
pub mod decode;
pub mod depth;
pub mod effects;
mod error;
pub mod export;
pub mod metrics;
pub mod normals;
pub mod prompt;
pub mod segmentation;

pub use error::ProtocolError;
