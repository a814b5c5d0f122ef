//! The `peel` tool's subcommands and readers, as a library so that the fuzz targets (`fuzz/`) reach
//! the same code the binary runs.

pub mod decode;
pub mod encode;
pub mod error;
pub mod io;
pub mod metrics;
#[cfg(feature = "model")]
pub mod run;
pub mod synth;
pub mod tasks;
pub mod upsample;

pub use error::{CliError, CliResult};
