//! [`Generator`]: a loaded model (its main network, any task networks, its phrase table and its
//! manifest) on one device, and the paint from a photo and a prompt to the painting at the
//! photo's size.

use burn::prelude::*;
use image::RgbImage;
use peel_protocol::prompt::{Request, Task};

use crate::conditioning::{self, Conditioning, Painter};
use crate::model::{self, PeelGenerator, Tokens};
use crate::phrases::PhraseTable;
use crate::preprocess::{self, Upsampling};
use crate::state::{self, LoadError, Manifest, load_model, load_network};
use crate::{PaintError, PaintTimings};

/// A loaded generator on one device: the networks, the phrase table and the manifest.
pub struct Generator {
    manifest: Manifest,
    model: PeelGenerator,
    /// `Manifest::task_networks`, in order; `None` until loaded (`Self::load_task_network`).
    task_models: Vec<Option<PeelGenerator>>,
    phrases: PhraseTable,
    device: Device,
}

impl Generator {
    /// Parses the manifest, checks both files' SHA-256, and loads the main network's weights
    /// (dequantized) and the whole phrase table. Task networks wait for [`Self::load_task_network`].
    pub fn from_bytes(manifest_json: &[u8], weights: &[u8], phrases: &[u8], device: &Device) -> Result<Self, LoadError> {
        Self::load(manifest_json, weights, device, |manifest| {
            state::check_sha(&manifest.phrases_file, phrases, &manifest.phrases_sha256)?;
            PhraseTable::from_bytes(phrases, &manifest.vocabulary, manifest.architecture.width).map_err(LoadError::Phrases)
        })
    }

    /// [`Self::from_bytes`] with the core phrase table (`Manifest::core_phrases`) instead of the
    /// whole one, until [`Self::complete_phrases`].
    pub fn from_core_bytes(manifest_json: &[u8], weights: &[u8], core: &[u8], device: &Device) -> Result<Self, LoadError> {
        Self::load(manifest_json, weights, device, |manifest| {
            let Some(spec) = &manifest.core_phrases else {
                return Err(LoadError::Phrases("the manifest names no core phrase table".to_string()));
            };
            state::check_sha(&spec.file, core, &spec.sha256)?;
            PhraseTable::from_core_bytes(core, &manifest.vocabulary, spec.word_count, manifest.architecture.width)
                .map_err(LoadError::Phrases)
        })
    }

    fn load(
        manifest_json: &[u8],
        weights: &[u8],
        device: &Device,
        table: impl FnOnce(&Manifest) -> Result<PhraseTable, LoadError>,
    ) -> Result<Self, LoadError> {
        let text = std::str::from_utf8(manifest_json)
            .map_err(|_| LoadError::Architecture("the model manifest is not UTF-8 text".to_string()))?;
        let manifest = Manifest::from_json(text)?;
        let model = load_model(&manifest, weights, device)?;
        let phrases = table(&manifest)?;
        let task_models = manifest.task_networks.iter().map(|_| None).collect();
        Ok(Self { manifest, model, task_models, phrases, device: device.clone() })
    }

    /// Loads task network `index` (`Manifest::task_networks`) from its weights file's bytes,
    /// checked against the manifest's hash.
    pub fn load_task_network(&mut self, index: usize, weights: &[u8]) -> Result<(), LoadError> {
        let Some(spec) = self.manifest.task_networks.get(index) else {
            return Err(LoadError::Architecture(format!("the manifest has no task network {index}")));
        };
        self.task_models[index] = Some(load_network(&spec.architecture, &spec.weights_file, &spec.sha256, weights, &self.device)?);
        Ok(())
    }

    /// Whether task network `index` is loaded.
    pub fn has_task_network(&self, index: usize) -> bool {
        self.task_models.get(index).is_some_and(Option::is_some)
    }

    /// The network that paints task `task` (an index of [`crate::architecture::TASKS`]).
    fn network(&self, task: usize) -> Result<&PeelGenerator, PaintError> {
        let name = crate::architecture::TASKS.get(task).copied().unwrap_or_default();
        let Some(index) = self.manifest.network_for(name) else {
            return Ok(&self.model);
        };
        self.task_models[index].as_ref().ok_or_else(|| PaintError::NetworkNotLoaded {
            task: name.to_string(),
            file: self.manifest.task_networks[index].weights_file.clone(),
            index,
        })
    }

    /// Replaces the core phrase table with the whole one (`Manifest::phrases_file`), checked
    /// against the manifest's hash.
    pub fn complete_phrases(&mut self, phrases: &[u8]) -> Result<(), LoadError> {
        state::check_sha(&self.manifest.phrases_file, phrases, &self.manifest.phrases_sha256)?;
        self.phrases = PhraseTable::from_bytes(phrases, &self.manifest.vocabulary, self.manifest.architecture.width)
            .map_err(LoadError::Phrases)?;
        Ok(())
    }

    /// Reads `manifest.json` and the files it names from `dir`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &std::path::Path, device: &Device) -> Result<Self, LoadError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| LoadError::Io { path: path.display().to_string(), message: e.to_string() })
        };
        let manifest_json = read("manifest.json")?;
        let text = std::str::from_utf8(&manifest_json)
            .map_err(|_| LoadError::Architecture("the model manifest is not UTF-8 text".to_string()))?;
        let manifest = Manifest::from_json(text)?;
        let weights = read(&manifest.weights_file)?;
        let phrases = read(&manifest.phrases_file)?;
        let mut generator = Self::from_bytes(&manifest_json, &weights, &phrases, device)?;
        for (index, network) in manifest.task_networks.iter().enumerate() {
            generator.load_task_network(index, &read(&network.weights_file)?)?;
        }
        Ok(generator)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The main network (the one that paints the tasks no task network claims).
    pub fn model(&self) -> &PeelGenerator {
        &self.model
    }

    pub fn phrase_table(&self) -> &PhraseTable {
        &self.phrases
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The network inputs and painter for `request` (see [`conditioning`]).
    pub fn condition(&self, request: &Request) -> Result<Conditioning, PaintError> {
        let task = request.task().name();
        if !self.manifest.supports(task) {
            return Err(PaintError::UnsupportedTask { task: task.to_string(), supported: self.manifest.tasks.join(", ") });
        }
        let palette = &self.manifest.instance_palette;
        Ok(conditioning::condition(request, &self.phrases, palette, self.manifest.architecture.max_instances)?)
    }

    /// Runs the network on a normalised `[1, 3, H, W]` input and paints: `[1, 3, H/2, W/2]` in `[0, 1]`.
    pub fn paint_tensor(&self, input: Tensor<4>, conditioning: &Conditioning) -> Result<Tensor<4>, PaintError> {
        let shape = input.dims();
        let m = model::SIZE_MULTIPLE;
        if shape[0] != 1 || shape[1] != 3 || shape[2] == 0 || shape[3] == 0 || !shape[2].is_multiple_of(m) || !shape[3].is_multiple_of(m) {
            return Err(PaintError::InputShape { shape: shape.to_vec(), multiple: m });
        }
        let network = self.network(conditioning.task)?;
        let device = &self.device;
        let task = Tensor::<1, Int>::from_data(TensorData::new(vec![conditioning.task as i64], [1]), device);
        let t = conditioning.phrases.len();
        let tokens = (t > 0).then(|| {
            let dim = self.phrases.dim();
            let flat: Vec<f32> = conditioning.phrases.iter().flatten().copied().collect();
            Tokens {
                projected: Tensor::<3>::from_data(TensorData::new(flat, [1, t, dim]), device),
                slots: Tensor::<2, Int>::from_data(TensorData::new(conditioning.slots.clone(), [1, t]), device),
            }
        });
        let heads = network.forward(input, task, tokens.as_ref());
        Ok(match &conditioning.painter {
            Painter::Depth => model::paint_depth(heads.walk),
            Painter::Normals => model::paint_normals(heads.normal),
            Painter::Segmentation { colours } => {
                let e = colours.len();
                let flat: Vec<f32> = colours.iter().flatten().map(|&c| f32::from(c) / 255.0).collect();
                let colours = Tensor::<3>::from_data(TensorData::new(flat, [1, e, 3]), device);
                model::paint_segmentation(heads.logits, colours)
            }
        })
    }

    /// The conditioning for `request` and the photo as the network's input, on the device.
    fn prepare(&self, photo: &RgbImage, request: &Request) -> Result<(Tensor<4>, Conditioning), PaintError> {
        let (width, height) = photo.dimensions();
        if width == 0 || height == 0 {
            return Err(PaintError::EmptyImage { width, height });
        }
        let conditioning = self.condition(request)?;
        let input = preprocess::prepare(photo, self.manifest.input_long_side_for(request.task().name()));
        let shape = [1, 3, input.height as usize, input.width as usize];
        let tensor = Tensor::<3>::from_data(TensorData::new(input.chw, [3, shape[2], shape[3]]), &self.device).unsqueeze();
        Ok((tensor, conditioning))
    }

    fn finish(photo: &RgbImage, painted: TensorData, task: Task, upsampling: Upsampling) -> Result<RgbImage, PaintError> {
        let [_, _, h, w]: [usize; 4] =
            painted.shape().as_slice().try_into().map_err(|_| PaintError::Readback("unexpected painting rank".into()))?;
        let values = painted.try_to_vec::<f32>().map_err(|e| PaintError::Readback(format!("{e:?}")))?;
        let painting = preprocess::chw_to_rgb8(&values, w as u32, h as u32);
        Ok(preprocess::finish(painting, photo, task, upsampling, preprocess::SPECK_SHARE))
    }

    /// Paints the visualization `request` asks for, at the photo's size (see [`preprocess`]),
    /// with the default [`Upsampling`] (guided by the photo).
    /// Synchronous: for native backends and the CPU (flex) backend in the browser.
    pub fn paint(&self, photo: &RgbImage, request: &Request) -> Result<RgbImage, PaintError> {
        self.paint_with(photo, request, Upsampling::default())
    }

    /// As [`Self::paint`], brought to the photo's size by `upsampling`.
    pub fn paint_with(&self, photo: &RgbImage, request: &Request, upsampling: Upsampling) -> Result<RgbImage, PaintError> {
        let (input, conditioning) = self.prepare(photo, request)?;
        let painted = self.paint_tensor(input, &conditioning)?;
        let data = painted.try_into_data().map_err(|e| PaintError::Readback(format!("{e:?}")))?;
        Self::finish(photo, data, request.task(), upsampling)
    }

    /// As [`Self::paint`], reading the result back without blocking (required on WebGPU), and
    /// timing each step by the clock `now` (milliseconds).
    pub async fn paint_async(
        &self,
        photo: &RgbImage,
        request: &Request,
        now: impl Fn() -> f64,
    ) -> Result<(RgbImage, PaintTimings), PaintError> {
        let started = now();
        let (input, conditioning) = self.prepare(photo, request)?;
        let prepared = now();
        let painted = self.paint_tensor(input, &conditioning)?;
        let data = painted.into_data_async().await.map_err(|e| PaintError::Readback(format!("{e:?}")))?;
        let read_back = now();
        let painting = Self::finish(photo, data, request.task(), Upsampling::default())?;
        let timings = PaintTimings {
            prepare_ms: prepared - started,
            network_ms: read_back - prepared,
            upsample_ms: now() - read_back,
        };
        Ok((painting, timings))
    }
}
