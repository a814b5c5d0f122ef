//! The messages Peel's page (`peel-web`) and its Web Worker (`peel-worker`) exchange, and the
//! byte codecs of their payloads. A crate of its own so that editing the page (`src/`) does not
//! rebuild the worker, which links Burn and wgpu. The decoded values' types come from
//! `peel_protocol::decode`, the decoder both the worker and `peel decode` call.

use serde::{Deserialize, Serialize};

/// The protocol's task: what a prompt asks for, and what a painting is of.
pub use peel_protocol::prompt::Task;

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
    Load {
        backend: BackendRequest,
        /// Test-only (`?test_gpu_fail=1`, first load): in Auto mode, the WebGPU probe fails after
        /// the model was built and its shaders compiled, so the browser test can check the fallback
        /// to the CPU.
        #[serde(default)]
        test_gpu_failure: bool,
    },
    /// Paint `file` (the photo's bytes) as `prompt` asks (see `peel_protocol::prompt`). Without a
    /// file, the photo of the last paint again: it stays decoded in the worker, so another task
    /// or prompt on the same photo neither sends nor decodes it again.
    Paint {
        #[serde(with = "serde_bytes")]
        file: Option<Vec<u8>>,
        prompt: String,
    },
    /// Test-only (the page sends it for `?test_panic=1`, once): the worker panics, as a wgpu or
    /// out-of-memory panic would, so the browser test can check that the page recovers.
    TestPanic,
}

/// The decoder's own types (`peel_protocol::decode`, which the worker and `peel decode` both
/// call): one decoded segment (a class, an instance or a referred phrase) and the summaries.
pub use peel_protocol::decode::{DepthSummary, NormalSummary, Segment};

/// The painting decoded into values. Arrays cross as little-endian bytes: serde-wasm-bindgen
/// turns a `Vec<f32>` into a JS array element by element, which took tens of seconds each way
/// for 43 k values; bytes cross as one Uint8Array.
#[derive(Debug, Serialize, Deserialize)]
pub enum Decoded {
    /// Meters per pixel, infinity for sky.
    Depth {
        #[serde(with = "serde_bytes")]
        depth_m_le: Vec<u8>,
        summary: DepthSummary,
    },
    /// Unit normals (x right, y up, z towards the viewer) per pixel, three f32 each.
    Normals {
        #[serde(with = "serde_bytes")]
        normals_le: Vec<u8>,
        summary: NormalSummary,
    },
    /// Per pixel u16: 0 = none of them, i = `segments[i - 1]` (`peel_protocol::decode::Values::Labels`).
    Segments {
        #[serde(with = "serde_bytes")]
        labels_le: Vec<u8>,
        segments: Vec<Segment>,
    },
}

pub fn f32_to_le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn f32_from_le_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

pub fn u16_to_le_bytes(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn u16_from_le_bytes(bytes: &[u8]) -> Vec<u16> {
    bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect()
}

/// The prompt the page suggests for each task, in [`Task::ALL`]'s order; every phrase in them is in the
/// shipped vocabulary.
pub const EXAMPLE_PROMPTS: [(Task, &str); 5] = [
    (Task::Depth, "Generate a metric depth map of the input image."),
    (Task::Normals, "Generate a surface normal map of the input image."),
    (
        Task::Semantic,
        r#"Generate a semantic segmentation visualization image, using this color mapping: {"person": "red", "cat": "orange", "sky": "blue", "tree": "lime", "building": "yellow", "table": "magenta"}"#,
    ),
    (Task::Instance, "Generate an instance segmentation visualization of this image. Each person is colored differently."),
    (Task::Referring, "A segmentation map image. The cat on the left is rendered in red; the cup is rendered in cyan."),
];

/// The prompt the page suggests for `task` ([`EXAMPLE_PROMPTS`]).
pub fn example_prompt(task: Task) -> &'static str {
    EXAMPLE_PROMPTS.iter().find(|(t, _)| *t == task).map_or("", |(_, p)| p)
}

/// Where one paint's time went in the worker, in milliseconds (shown in the page's result JSON,
/// read by `scripts/bench.sh`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct StageTimings {
    /// Reading the photo's file (format, EXIF orientation) and reducing it to at most 1024 px.
    pub decode_ms: f64,
    /// Conditioning, resizing to the model's input and handing it to the device.
    pub prepare_ms: f64,
    /// The network and the painter until the painting is back from the device.
    pub network_ms: f64,
    /// The painting brought to the photo's size (guided upsampling).
    pub upsample_ms: f64,
    /// The painting decoded into values (depth, normals, masks).
    pub values_ms: f64,
    /// When the worker received the request and when it answered, in milliseconds since the
    /// epoch (`performance.timeOrigin + now`): the page times the messages' trips with them.
    #[serde(default)]
    pub received_at_ms: f64,
    #[serde(default)]
    pub sent_at_ms: f64,
    /// Deferred files (the whole phrase table, task networks) wanted, downloading or not yet
    /// handed to the generator when the worker answered: until this is 0, a paint shares the
    /// worker with loading them (the benchmark's warm paints start after).
    #[serde(default)]
    pub parts_loading: u32,
}

/// A word of the prompt the model does not know, and the known words nearest to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordSuggestion {
    /// Normalized (lower-case, `[a-z0-9]` only).
    pub word: String,
    /// Best first; may be empty.
    pub nearest: Vec<String>,
}

/// Worker → page.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's wasm is running and listening; messages sent before this are lost.
    Booted,
    Progress {
        text: String,
        /// How far the download has come, 0..=1, where the sizes are known.
        #[serde(default)]
        fraction: Option<f32>,
    },
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
        /// The prompt's task (crosses as its name, "depth", "normals", "semantic", "instance" or "referring").
        task: Task,
        /// The canonical form of the prompt that was painted.
        prompt: String,
        /// The generator's visualization at display resolution, RGB.
        #[serde(with = "serde_bytes")]
        visualization: Vec<u8>,
        decoded: Decoded,
        /// Milliseconds from the photo to the painting at its size (prepare + network + upsample).
        millis: f64,
        timings: StageTimings,
    },
    Failed {
        message: String,
        /// For a prompt with words the model does not know: the known words nearest to each.
        #[serde(default)]
        suggestions: Vec<WordSuggestion>,
    },
    /// The worker panicked; its wasm instance is unusable (sent by the panic hook, just before the trap).
    Crashed { message: String },
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

    #[test]
    fn label_bytes_round_trip_exactly() {
        let labels = [0u16, 1, 255, 256, u16::MAX];
        assert_eq!(u16_from_le_bytes(&u16_to_le_bytes(&labels)), labels);
    }

    #[test]
    fn example_prompts_parse_as_their_task() {
        assert_eq!(EXAMPLE_PROMPTS.map(|(task, _)| task), Task::ALL);
        for task in Task::ALL {
            let request = peel_protocol::prompt::parse(example_prompt(task)).unwrap_or_else(|e| panic!("{task}: {e}"));
            assert_eq!(request.task(), task);
        }
    }

    #[test]
    fn a_task_crosses_as_its_name() {
        use serde::de::{IntoDeserializer, value::Error};
        for task in Task::ALL {
            assert_eq!(Task::deserialize(task.name().into_deserializer()), Ok::<_, Error>(task));
        }
        assert!(Task::deserialize("Depth".into_deserializer()).map_err(|e: Error| e).is_err());
    }
}
