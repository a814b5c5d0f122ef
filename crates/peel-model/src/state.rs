//! Loading the shipped weights: `weights/manifest.json` describes them, the bytes come from
//! wherever the caller got them (files natively, `fetch` in the browser).
//!
//! The manifest pins the SHA-256 of the weights and of the phrase table, so a truncated or
//! tampered file is refused with a clear message before any tensor is read. The weights file
//! holds every tensor of the PyTorch `state_dict` under its Burn module path. Convolution and
//! Linear weights are int8, symmetric, one scale per output channel: tensor `NAME` is `I8` and
//! `NAME.qscale` is `F32` with the reduced dimensions kept as 1 (convolution `[out, in/g, k, k]`
//! → `[out, 1, 1, 1]`; Linear `[in, out]` → `[1, out]`), value = q × scale. Every other tensor
//! (biases, the two embeddings, `null_token`) is `F32`. Weights are dequantized at load; every
//! expected tensor must be present with its dtype and shape, and nothing else may be.

use std::collections::{BTreeMap, BTreeSet};

#[cfg(feature = "burn")]
use burn::prelude::*;
#[cfg(feature = "burn")]
use burn::store::{ModuleSnapshot, bridge};
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::architecture::{EncoderKind, GeneratorConfig, OUTPUT_STRIDE, SIZE_MULTIPLE, TASKS};
#[cfg(feature = "burn")]
use crate::model::PeelGenerator;
use crate::preprocess::NORMALIZATION;

/// The manifest format this build understands (3: the phrase table holds rows projected
/// through `phrase_proj.weight`, and lists its own row names).
pub const MANIFEST_FORMAT: u32 = 3;
/// The architecture this build implements.
pub const ARCHITECTURE_KIND: &str = "peel-generator";

/// Suffix of a quantized tensor's scale.
const QSCALE: &str = ".qscale";
/// Tensors named `*.weight` that are stored as F32 (not convolution or Linear weights).
const FLOAT_WEIGHTS: [&str; 2] = ["task_embedding.weight", "slot_embedding.weight"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format; this build reads [`MANIFEST_FORMAT`].
    pub format: u32,
    /// Human-readable model name shown in the UI.
    pub name: String,
    /// True for a stand-in model; the UI says so.
    pub placeholder: bool,
    pub architecture: Architecture,
    /// Long side, in pixels, that photos are resized to before inference.
    pub input_long_side: u32,
    /// Each input side is a multiple of this (32 for this architecture).
    pub size_multiple: u32,
    /// The painting's resolution is the input's divided by this (2 for this architecture).
    pub output_stride: u32,
    /// The input normalisation the weights were trained with; must be [`NORMALIZATION`].
    pub normalization: String,
    /// Tasks the weights were trained for, by name (see [`crate::architecture::TASKS`]).
    pub tasks: Vec<String>,
    /// File name of the safetensors weights, relative to the manifest.
    pub weights_file: String,
    /// Lower-case hex SHA-256 of the weights file.
    pub sha256: String,
    /// File name of the phrase-embedding table, relative to the manifest.
    pub phrases_file: String,
    /// Lower-case hex SHA-256 of the phrase table.
    pub phrases_sha256: String,
    /// Sizes of the two files in bytes, for the page's download progress (optional: older
    /// manifests lack them; the hashes are what is checked).
    #[serde(default)]
    pub weights_bytes: Option<u64>,
    #[serde(default)]
    pub phrases_bytes: Option<u64>,
    /// The core phrase table a first visit paints with while the whole one downloads (absent in
    /// older manifests: those load the whole table first).
    #[serde(default)]
    pub core_phrases: Option<CorePhrases>,
    /// Human-readable description of the weights' quantization.
    #[serde(default)]
    pub quantization: String,
    pub vocabulary: Vocabulary,
    /// Candidate instance colours, in order of preference.
    pub instance_palette: Vec<[u8; 3]>,
    /// Free-form provenance: data, steps, command.
    #[serde(default)]
    pub training: serde_json::Value,
    /// Free-form evaluation figures.
    #[serde(default)]
    pub evaluation: serde_json::Value,
    /// Networks of their own for some of `tasks` (absent in older manifests: one network paints
    /// every task). The main network (`architecture`, `weights_file`) paints the rest.
    #[serde(default)]
    pub task_networks: Vec<TaskNetwork>,
}

/// A second network of the same architecture kind that paints some of the model's tasks from its
/// own weights file. peel-gen-3 has one: a trunk trained for the segmentation tasks alone beside
/// peel-gen-2's, because one small trunk kept either the class knowledge or the geometry, not
/// both (docs/MODEL.md, "peel-gen-3"). The phrase table is this network's when it paints prompts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskNetwork {
    /// The tasks it paints, by name; each also in [`Manifest::tasks`], and in no other network.
    pub tasks: Vec<String>,
    pub architecture: Architecture,
    /// File name of its safetensors weights, relative to the manifest.
    pub weights_file: String,
    /// Lower-case hex SHA-256 of that file.
    pub sha256: String,
    /// Its size in bytes, for the page's download progress.
    #[serde(default)]
    pub weights_bytes: Option<u64>,
    /// The long side its photos are resized to, where it is not the manifest's
    /// `input_long_side` (peel-gen-3's scene network reads more at 320 px: docs/MODEL.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_long_side: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    pub kind: String,
    pub encoder: String,
    pub width: usize,
    pub fine_width: usize,
    /// Size of the MiniLM embeddings the network was trained on (384); the shipped phrase
    /// table's rows are already projected to `width`.
    pub phrase_dim: usize,
    pub max_instances: usize,
    /// Whether the network has a presence head (`model::PresenceHead`); absent in older manifests.
    #[serde(default)]
    pub presence: bool,
}

impl Architecture {
    /// The generator this architecture describes; `None` when the encoder is not one this build
    /// implements (a validated manifest always has one).
    pub fn config(&self) -> Option<GeneratorConfig> {
        Some(GeneratorConfig {
            encoder: EncoderKind::from_name(&self.encoder)?,
            width: self.width,
            fine_width: self.fine_width,
            max_instances: self.max_instances,
            presence: self.presence,
        })
    }
}

/// What the phrase table holds; the row names themselves are in the table file (see
/// [`crate::phrases`]), so the manifest every visitor downloads stays small.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Rows of tensor `phrases`.
    pub phrase_count: usize,
    /// Rows of tensor `words`.
    pub word_count: usize,
    /// Words ignored when composing a phrase from words.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// The core phrase table: every phrase row of the whole table and the rows of the words those
/// phrases are made of (the rows training saw), byte for byte. It answers a prompt exactly as the
/// whole table does or not at all (see [`crate::phrases`]), so a page can paint with it while
/// the other words, which training never saw, download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorePhrases {
    /// File name, relative to the manifest.
    pub file: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// Size in bytes, for the page's download progress.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// Rows of tensor `words` (the phrases are all there: [`Vocabulary::phrase_count`]).
    pub word_count: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the model manifest is not valid JSON for this version of Peel: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error("the model manifest has format {found}, but this build of Peel reads format {MANIFEST_FORMAT}")]
    ManifestFormat { found: serde_json::Value },
    #[error("the model manifest describes a model this build of Peel cannot run: {0}")]
    Architecture(String),
    #[error("the {file} file is corrupt or was modified: its SHA-256 is {actual}, the manifest expects {expected}")]
    Checksum { file: String, expected: String, actual: String },
    #[error("the weights file does not fit the model architecture: {0}")]
    Weights(String),
    #[error("the phrase table does not fit the manifest: {0}")]
    Phrases(String),
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
}

impl Manifest {
    pub fn from_json(text: &str) -> Result<Self, LoadError> {
        // The format first, so a future manifest gets a version message rather than a field error.
        let value: serde_json::Value = serde_json::from_str(text)?;
        match value.get("format") {
            Some(f) if f.as_u64() == Some(u64::from(MANIFEST_FORMAT)) => {}
            Some(f) => return Err(LoadError::ManifestFormat { found: f.clone() }),
            None => {
                let found = value.get("manifest_version").cloned().unwrap_or(serde_json::Value::Null);
                return Err(LoadError::ManifestFormat { found });
            }
        }
        let manifest: Manifest = serde_json::from_value(value)?;
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: String| Err(LoadError::Architecture(m));
        self.architecture.validate()?;
        if self.size_multiple as usize != SIZE_MULTIPLE || self.output_stride as usize != OUTPUT_STRIDE {
            return bad(format!(
                "size_multiple {} and output_stride {} (this architecture has {SIZE_MULTIPLE} and {OUTPUT_STRIDE})",
                self.size_multiple, self.output_stride
            ));
        }
        let mut sides = std::iter::once(self.input_long_side).chain(self.task_networks.iter().filter_map(|n| n.input_long_side));
        if let Some(side) = sides.find(|&s| s < SIZE_MULTIPLE as u32 || s > 4096) {
            return bad(format!("input_long_side {side}"));
        }
        if self.normalization != NORMALIZATION {
            return bad(format!("input normalization {:?} (this build implements {NORMALIZATION:?})", self.normalization));
        }
        if let Some(core) = self.core_phrases.as_ref().filter(|c| c.word_count > self.vocabulary.word_count) {
            return bad(format!("a core phrase table of {} words, more than the whole table's {}", core.word_count, self.vocabulary.word_count));
        }
        if let Some(task) = self.tasks.iter().find(|t| !TASKS.contains(&t.as_str())) {
            return bad(format!("unknown task {task:?} (known: {TASKS:?})"));
        }
        if self.task_networks.len() > TASKS.len() {
            return bad(format!("{} task networks for {} tasks", self.task_networks.len(), TASKS.len()));
        }
        let mut claimed = BTreeSet::new();
        for (i, network) in self.task_networks.iter().enumerate() {
            network.architecture.validate()?;
            // One phrase table serves every network.
            if network.architecture.width != self.architecture.width {
                return bad(format!("task network {i} has width {}, the main network {}", network.architecture.width, self.architecture.width));
            }
            if network.tasks.is_empty() {
                return bad(format!("task network {i} paints no task"));
            }
            if let Some(task) = network.tasks.iter().find(|t| !self.supports(t) || !claimed.insert(t.as_str())) {
                return bad(format!("task network {i} paints {task:?}, which the manifest's tasks lack or another network paints"));
            }
            let files = [&self.weights_file, &self.phrases_file];
            if files.contains(&&network.weights_file) || self.task_networks[..i].iter().any(|n| n.weights_file == network.weights_file) {
                return bad(format!("task network {i} names the file {:?}, which another file of the model has", network.weights_file));
            }
        }
        Ok(())
    }

    /// Whether the weights were trained for the task named `name`.
    pub fn supports(&self, name: &str) -> bool {
        self.tasks.iter().any(|t| t == name)
    }

    /// The index in [`Self::task_networks`] of the network that paints `task`; `None` for the
    /// main network.
    pub fn network_for(&self, task: &str) -> Option<usize> {
        self.task_networks.iter().position(|n| n.tasks.iter().any(|t| t == task))
    }

    /// The long side photos are resized to when painting `task`: its network's, else the
    /// manifest's.
    pub fn input_long_side_for(&self, task: &str) -> u32 {
        self.network_for(task).and_then(|i| self.task_networks[i].input_long_side).unwrap_or(self.input_long_side)
    }
}

impl Architecture {
    fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: String| Err(LoadError::Architecture(m));
        let a = self;
        if a.kind != ARCHITECTURE_KIND || EncoderKind::from_name(&a.encoder).is_none() {
            let encoders = EncoderKind::ALL.map(EncoderKind::name);
            return bad(format!("architecture {:?} with encoder {:?} (expected {ARCHITECTURE_KIND:?} with one of {encoders:?})", a.kind, a.encoder));
        }
        if a.width == 0 || a.fine_width == 0 || a.phrase_dim == 0 || a.max_instances == 0 || a.width > 4096 || a.fine_width > 4096 || a.phrase_dim > 65536 || a.max_instances > 1024 {
            return bad(format!("implausible sizes {a:?}"));
        }
        Ok(())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "burn")]
pub(crate) fn check_sha(file: &str, bytes: &[u8], expected: &str) -> Result<(), LoadError> {
    let actual = sha256_hex(bytes);
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(LoadError::Checksum { file: file.to_string(), expected: expected.to_string(), actual })
    }
}

/// The raw bytes of tensor `name`, checked for dtype and shape.
pub(crate) fn tensor_of<'a>(file: &'a SafeTensors<'a>, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8], String> {
    let view = file.tensor(name).map_err(|_| format!("missing tensor {name:?}"))?;
    if view.dtype() != dtype {
        return Err(format!("tensor {name:?} is {:?}, expected {dtype:?}", view.dtype()));
    }
    if view.shape() != shape {
        return Err(format!("tensor {name:?} has shape {:?}, expected {shape:?}", view.shape()));
    }
    Ok(view.data())
}

/// Little-endian f32 values (safetensors data need not be aligned).
pub(crate) fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// `q × scale`, the scale broadcast over the dimensions where its shape is 1.
fn dequantize(q: &[u8], shape: &[usize], scales: &[f32], scale_shape: &[usize]) -> Vec<f32> {
    // Row-major strides of the scale, 0 where it broadcasts.
    let mut strides = vec![0usize; shape.len()];
    let mut stride = 1;
    for d in (0..shape.len()).rev() {
        if scale_shape[d] != 1 {
            strides[d] = stride;
        }
        stride *= scale_shape[d];
    }
    let mut index = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(q.len());
    for &byte in q {
        let s: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(f32::from(byte as i8) * scales[s]);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
}

/// The scale shape for a quantized weight: the output-channel axis kept, the rest 1.
fn scale_shape(shape: &[usize]) -> Vec<usize> {
    match shape.len() {
        // Linear [in, out]
        2 => vec![1, shape[1]],
        // Convolution [out, in/g, k, k]
        _ => {
            let mut s = vec![1; shape.len()];
            s[0] = shape[0];
            s
        }
    }
}

fn is_quantized(name: &str) -> bool {
    name.ends_with(".weight") && !FLOAT_WEIGHTS.contains(&name)
}

/// Builds the main network the manifest names and fills it with `weights` (SHA-256 checked).
#[cfg(feature = "burn")]
pub fn load_model(manifest: &Manifest, weights: &[u8], device: &Device) -> Result<PeelGenerator, LoadError> {
    load_network(&manifest.architecture, &manifest.weights_file, &manifest.sha256, weights, device)
}

/// Builds `a` and fills it with `weights`, the file `file` whose SHA-256 must be `sha256`.
#[cfg(feature = "burn")]
pub fn load_network(a: &Architecture, file: &str, sha256: &str, weights: &[u8], device: &Device) -> Result<PeelGenerator, LoadError> {
    check_sha(file, weights, sha256)?;
    let config = a.config().ok_or_else(|| LoadError::Architecture(format!("unknown encoder {:?}", a.encoder)))?;
    let mut model = PeelGenerator::new(&config, device);
    let tensors = read_weights(weights, &tensor_shapes(&model))?
        .into_iter()
        .map(|w| bridge::from_data(TensorData::new(w.values, w.shape), w.name, None))
        .collect();
    let applied = model.apply(tensors, None, None, true);
    if !applied.missing.is_empty() || !applied.errors.is_empty() || !applied.unused.is_empty() {
        let bad = LoadError::Weights;
        let missing: Vec<&str> = applied.missing.iter().map(|(path, _)| path.as_str()).collect();
        return Err(bad(format!("missing {missing:?}, unused {:?}, errors {:?}", applied.unused, applied.errors)));
    }
    Ok(model)
}

/// Every tensor `model` holds, by its PyTorch-style name, with its shape.
#[cfg(feature = "burn")]
pub fn tensor_shapes(model: &PeelGenerator) -> BTreeMap<String, Vec<usize>> {
    model.collect(None, None, true).into_iter().map(|t| (t.name.clone(), t.shape.to_vec())).collect()
}

/// One tensor of a weights file, dequantized.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Parses a weights file's bytes against the architecture's tensors (`expected`, from
/// `tensor_shapes`): every tensor present with its dtype and shape and nothing else, int8
/// weights dequantized with finite scales, float tensors finite. Needs neither a model nor Burn,
/// so the parser can be tested (and fuzzed) on its own.
pub fn read_weights(weights: &[u8], expected: &BTreeMap<String, Vec<usize>>) -> Result<Vec<Weight>, LoadError> {
    let bad = LoadError::Weights;
    let file = SafeTensors::deserialize(weights).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let mut wanted: BTreeSet<String> = expected.keys().cloned().collect();
    wanted.extend(expected.keys().filter(|n| is_quantized(n)).map(|n| format!("{n}{QSCALE}")));
    let present: BTreeSet<String> = file.names().into_iter().map(str::to_string).collect();
    let missing: Vec<&String> = wanted.difference(&present).collect();
    let extra: Vec<&String> = present.difference(&wanted).collect();
    if !missing.is_empty() || !extra.is_empty() {
        let list = |v: &[&String]| {
            let shown: Vec<&str> = v.iter().take(8).map(|s| s.as_str()).collect();
            let more = if v.len() > 8 { format!(" and {} more", v.len() - 8) } else { String::new() };
            format!("{shown:?}{more}")
        };
        return Err(bad(format!("missing tensors {}, unexpected tensors {}", list(&missing), list(&extra))));
    }

    let mut tensors = Vec::with_capacity(expected.len());
    for (name, shape) in expected {
        let values = if is_quantized(name) {
            let q = tensor_of(&file, name, Dtype::I8, shape).map_err(bad)?;
            let sshape = scale_shape(shape);
            let scale_name = format!("{name}{QSCALE}");
            let scales = f32_values(tensor_of(&file, &scale_name, Dtype::F32, &sshape).map_err(bad)?);
            if let Some(i) = scales.iter().position(|s| !s.is_finite()) {
                return Err(bad(format!("{scale_name} has a non-finite value at {i}")));
            }
            dequantize(q, shape, &scales, &sshape)
        } else {
            let values = f32_values(tensor_of(&file, name, Dtype::F32, shape).map_err(bad)?);
            if let Some(i) = values.iter().position(|s| !s.is_finite()) {
                return Err(bad(format!("{name} has a non-finite value at {i}")));
            }
            values
        };
        tensors.push(Weight { name: name.clone(), shape: shape.clone(), values });
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_with_another_input_normalization_is_refused() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../weights/manifest.json");
        let text = std::fs::read_to_string(path).expect("weights/manifest.json");
        assert_eq!(Manifest::from_json(&text).expect("the shipped manifest").normalization, NORMALIZATION);
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["normalization"] = "rgb / 255".into();
        let err = Manifest::from_json(&value.to_string()).expect_err("another normalization");
        assert!(matches!(err, LoadError::Architecture(ref m) if m.contains("rgb / 255")), "{err}");
        value.as_object_mut().unwrap().remove("normalization");
        assert!(matches!(Manifest::from_json(&value.to_string()), Err(LoadError::Manifest(_))));
    }

    #[test]
    fn task_networks_must_paint_known_tasks_each_once_from_files_of_their_own() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../weights/manifest.json");
        let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let network = serde_json::json!({
            "tasks": ["semantic", "referring"], "architecture": value["architecture"].clone(),
            "weights_file": "scene.safetensors", "sha256": "00",
        });
        value["task_networks"] = serde_json::json!([network]);
        let manifest = Manifest::from_json(&value.to_string()).expect("a valid task network");
        assert_eq!(manifest.network_for("semantic"), Some(0));
        assert_eq!(manifest.network_for("referring"), Some(0));
        assert_eq!(manifest.network_for("depth"), None);
        let side = manifest.input_long_side;
        assert_eq!(manifest.input_long_side_for("semantic"), side, "a network without a side of its own");
        let mut own_side = value.clone();
        own_side["task_networks"][0]["input_long_side"] = (side + 64).into();
        let own_side = Manifest::from_json(&own_side.to_string()).expect("a network with its own input side");
        assert_eq!(own_side.input_long_side_for("semantic"), side + 64);
        assert_eq!(own_side.input_long_side_for("depth"), side, "the main network's tasks keep the manifest's");
        let refused = |edit: &dyn Fn(&mut serde_json::Value), needle: &str| {
            let mut v = value.clone();
            edit(&mut v);
            let err = Manifest::from_json(&v.to_string()).expect_err(needle);
            assert!(matches!(err, LoadError::Architecture(ref m) if m.contains(needle)), "{err}");
        };
        refused(&|v| v["task_networks"][0]["tasks"] = serde_json::json!(["segmentation"]), "\"segmentation\"");
        refused(&|v| v["task_networks"][0]["tasks"] = serde_json::json!([]), "paints no task");
        refused(&|v| v["task_networks"] = serde_json::json!([network.clone(), network.clone()]), "another network paints");
        refused(&|v| v["task_networks"][0]["weights_file"] = v["weights_file"].clone(), "another file of the model");
        refused(&|v| v["task_networks"][0]["architecture"]["width"] = 32.into(), "width 32");
        refused(&|v| v["task_networks"][0]["architecture"]["encoder"] = "resnet".into(), "\"resnet\"");
        refused(&|v| v["task_networks"][0]["input_long_side"] = 8.into(), "input_long_side 8");
        refused(
            &|v| {
                v["tasks"] = serde_json::json!(["depth", "semantic"]);
            },
            "\"referring\"",
        );
    }

    #[test]
    fn dequantize_broadcasts_per_output_channel() {
        // Linear [in=2, out=3], scale [1, 3].
        let q: Vec<u8> = [1i8, 2, 3, -1, -2, -3].iter().map(|&v| v as u8).collect();
        let got = dequantize(&q, &[2, 3], &[1.0, 10.0, 100.0], &[1, 3]);
        assert_eq!(got, vec![1.0, 20.0, 300.0, -1.0, -20.0, -300.0]);
        // Conv [out=2, 1, 1, 2], scale [2, 1, 1, 1].
        let got = dequantize(&q[..4], &[2, 1, 1, 2], &[0.5, 2.0], &[2, 1, 1, 1]);
        assert_eq!(got, vec![0.5, 1.0, 6.0, -2.0]);
    }

    #[test]
    #[cfg(feature = "burn")]
    fn the_architecture_names_its_tensors_like_pytorch() {
        let model = PeelGenerator::new(&GeneratorConfig::default(), &Device::flex());
        let names = tensor_shapes(&model);
        assert_eq!(names["encoder.stem.weight"], vec![32, 3, 3, 3]);
        assert!(!names.contains_key("encoder.blocks.0.expand.weight"));
        assert_eq!(names["encoder.blocks.1.expand.weight"], vec![96, 16, 1, 1]);
        assert_eq!(names["encoder.blocks.1.depthwise.weight"], vec![96, 1, 3, 3]);
        assert_eq!(names["encoder.blocks.15.project.bias"], vec![320]);
        assert_eq!(names["film2.proj.weight"], vec![64, 64]);
        // phrase_proj.weight is folded into the phrase table; only the bias is a parameter.
        assert_eq!(names["phrase_proj.bias"], vec![64]);
        assert!(!names.contains_key("phrase_proj.weight"));
        assert_eq!(names["query_proj.weight"], vec![64, 32]);
        assert_eq!(names["null_token"], vec![1, 64]);
        assert_eq!(names["slot_embedding.weight"], vec![9, 64]);
        assert_eq!(names["refine4.depthwise.weight"], vec![64, 1, 3, 3]);
        assert_eq!(names["attend16.out.bias"], vec![64]);
        let params: usize = names.values().map(|s| s.iter().product::<usize>()).sum();
        assert!(params > 3_000_000 && params < 4_500_000, "{params} parameters");
    }

    #[test]
    #[cfg(feature = "burn")]
    fn the_mobilenetv2_trunk_feeds_the_decoder_its_own_channels() {
        let config = GeneratorConfig { encoder: EncoderKind::MobileNetV2, ..GeneratorConfig::default() };
        let names = tensor_shapes(&PeelGenerator::new(&config, &Device::flex()));
        assert_eq!(names["encoder.blocks.16.project.weight"], vec![320, 960, 1, 1]);
        assert!(!names.contains_key("encoder.blocks.17.project.weight"));
        assert_eq!(names["lateral16.weight"], vec![64, 96, 1, 1]);
        assert_eq!(names["lateral8.weight"], vec![64, 32, 1, 1]);
        assert_eq!(names["lateral4.weight"], vec![64, 24, 1, 1]);
    }
}
