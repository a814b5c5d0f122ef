//! Peel's generator: the network (`model`; its geometry in [`architecture`]), its weights ([`state`]), the phrase-embedding
//! table ([`phrases`]), prompt → network inputs ([`conditioning`]) and the image plumbing
//! around it ([`preprocess`]). Pure library code: it builds and tests natively, and the web
//! worker and the `peel` CLI drive it through `Generator`.
//!
//! The network, its loading and `Generator` need Burn: the `burn` feature (on by default). Without
//! it the crate is the manifest, the phrase table, the prompt path and the photo decoders, which is
//! what the fuzz targets (`fuzz/`) build, so that their instrumented build compiles no Burn.

pub mod architecture;
pub mod conditioning;
pub mod despeckle;
#[cfg(feature = "burn")]
mod generator;
#[cfg(feature = "burn")]
pub mod model;
pub mod phrases;
pub mod photo;
pub mod preprocess;
pub mod state;
pub mod upsample;

#[cfg(feature = "burn")]
pub use burn::prelude::Device;
pub use architecture::GeneratorConfig;
pub use conditioning::{ConditionError, Conditioning, Painter};
#[cfg(feature = "burn")]
pub use generator::Generator;
#[cfg(feature = "burn")]
pub use model::{Heads, PeelGenerator, Tokens};
pub use phrases::{EmbedError, PhraseTable, UnknownPhrase};
pub use preprocess::Upsampling;
#[cfg(feature = "burn")]
pub use state::load_model;
pub use state::{CorePhrases, LoadError, Manifest, TaskNetwork};

/// Why a photo could not be painted.
#[derive(Debug, thiserror::Error)]
pub enum PaintError {
    #[error(transparent)]
    Condition(#[from] ConditionError),
    #[error("the loaded model was not trained for {task} (it paints {supported})")]
    UnsupportedTask { task: String, supported: String },
    #[error("the photo is empty ({width}×{height} pixels)")]
    EmptyImage { width: u32, height: u32 },
    #[error("the model input must be [1, 3, H, W] with H and W positive multiples of {multiple}; got {shape:?}")]
    InputShape { shape: Vec<usize>, multiple: usize },
    #[error("reading the painting back from the device failed: {0}")]
    Readback(String),
    /// The task's network (`Manifest::task_networks[index]`) is not loaded yet: load it with
    /// `Generator::load_task_network` and paint again.
    #[error("the network that paints {task} ({file}) is not loaded yet")]
    NetworkNotLoaded { task: String, file: String, index: usize },
}

/// Milliseconds spent in each step of [`Generator::paint_async`], by the caller's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PaintTimings {
    /// Conditioning, resizing and normalising the photo, and handing the input to the device.
    pub prepare_ms: f64,
    /// The network and the painter, until the painting is read back from the device.
    pub network_ms: f64,
    /// Bringing the painting to the photo's size (guided upsampling) and to 8-bit RGB.
    pub upsample_ms: f64,
}

