//! Loading the shipped weights: `weights/manifest.json` describes them, the bytes come from
//! wherever the caller got them (a file natively, `fetch` in the browser).
//!
//! The manifest pins the weights' SHA-256, so a truncated or tampered file is refused with a
//! clear message before any tensor is read.

use crate::model::{PeelUNet, UNetConfig};
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest format this build understands.
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    /// Human-readable model name shown in the UI.
    pub name: String,
    /// True until the trained generalist model replaces the placeholder; the UI says so.
    pub placeholder: bool,
    pub architecture: UNetConfig,
    /// Long side, in pixels, that photos are resized to before inference.
    pub input_long_side: u32,
    /// Tasks the weights were trained for (e.g. `["depth"]`).
    pub tasks: Vec<String>,
    /// File name of the safetensors weights, relative to the manifest.
    pub weights_file: String,
    /// Lower-case hex SHA-256 of the weights file.
    pub sha256: String,
    /// Free-form provenance: data, steps, command, metrics.
    #[serde(default)]
    pub training: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the model manifest is not valid JSON for this version of Peel: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error("the model manifest has version {found}, but this build of Peel reads version {MANIFEST_VERSION}")]
    ManifestVersion { found: u32 },
    #[error("the weights file is corrupt or was modified: its SHA-256 is {actual}, the manifest expects {expected}")]
    Checksum { expected: String, actual: String },
    #[error("the weights file does not fit the model architecture: {0}")]
    Weights(String),
}

impl Manifest {
    pub fn from_json(text: &str) -> Result<Self, LoadError> {
        let manifest: Manifest = serde_json::from_str(text)?;
        if manifest.manifest_version != MANIFEST_VERSION {
            return Err(LoadError::ManifestVersion { found: manifest.manifest_version });
        }
        Ok(manifest)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the architecture the manifest names and fills it with `weights`.
pub fn load_model(manifest: &Manifest, weights: Vec<u8>, device: &Device) -> Result<PeelUNet, LoadError> {
    let actual = sha256_hex(&weights);
    if !actual.eq_ignore_ascii_case(&manifest.sha256) {
        return Err(LoadError::Checksum { expected: manifest.sha256.clone(), actual });
    }
    let mut model = PeelUNet::new(&manifest.architecture, device);
    let mut store = SafetensorsStore::from_bytes(Some(weights));
    let applied = model
        .load_from(&mut store)
        .map_err(|e| LoadError::Weights(e.to_string()))?;
    if !applied.missing.is_empty() || !applied.errors.is_empty() {
        let missing: Vec<&str> = applied.missing.iter().map(|(path, _)| path.as_str()).collect();
        return Err(LoadError::Weights(format!(
            "missing tensors {missing:?}, errors {:?}",
            applied.errors
        )));
    }
    Ok(model)
}
