//! Peel's web app: a page ([`ui`]) and a Web Worker ([`worker`]) that owns the generator.
//!
//! The page never touches tensors: it sends the worker the photo's file bytes and draws what
//! comes back. Both halves are built for wasm32 by Trunk (see `index.html`); natively only the
//! message types below compile, so `cargo test --workspace` stays fast.

use serde::{Deserialize, Serialize};

#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// Which compute backend the user asked for (the `?backend=` URL parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendRequest {
    /// WebGPU if an adapter exists and it runs the model faster than the CPU; else CPU.
    Auto,
    WebGpu,
    Cpu,
}

impl BackendRequest {
    pub fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("webgpu") => Self::WebGpu,
            Some("cpu") => Self::Cpu,
            _ => Self::Auto,
        }
    }
}

/// Page → worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker {
    Load { backend: BackendRequest },
    Paint {
        #[serde(with = "serde_bytes")]
        file: Vec<u8>,
    },
}

/// Summary of a decoded depth map, in meters (sky, decoded as infinity, is excluded).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DepthSummary {
    pub min_m: f32,
    pub median_m: f32,
    pub max_m: f32,
    /// Fraction of pixels decoded as sky (infinitely far).
    pub sky_fraction: f32,
    /// Median distance of the painted colours from the colormap path, in [0, 1] RGB units.
    pub median_off_path: f32,
}

pub fn f32_to_le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn f32_from_le_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// Worker → page.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's wasm is running and listening; messages sent before this are lost.
    Booted,
    Progress { text: String },
    Ready {
        model_name: String,
        placeholder: bool,
        /// "WebGPU" or "CPU".
        backend: String,
        /// Why that backend: adapter name and the probe timings.
        backend_reason: String,
    },
    Painted {
        width: u32,
        height: u32,
        /// The generator's visualization at model resolution, RGB.
        #[serde(with = "serde_bytes")]
        visualization: Vec<u8>,
        /// Decoded depth in meters at model resolution (infinity for sky), as little-endian
        /// f32 bytes: serde-wasm-bindgen turns a `Vec<f32>` into a JS array element by element,
        /// which took tens of seconds each way for 43 k values; bytes cross as one Uint8Array.
        #[serde(with = "serde_bytes")]
        depth_m_le: Vec<u8>,
        summary: DepthSummary,
        millis: f64,
    },
    Failed { message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_bytes_round_trip_exactly() {
        let depth = [0.25f32, 3.5, f32::INFINITY, 1e-7];
        let back = f32_from_le_bytes(&f32_to_le_bytes(&depth));
        assert_eq!(back, depth);
    }
}
