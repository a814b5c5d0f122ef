//! Peel's generator: the network ([`model`]), its weights ([`state`]) and the image plumbing
//! around it ([`preprocess`]). Pure library code: it builds and tests natively, and the web
//! worker and the `peel` CLI drive it.

pub mod model;
pub mod preprocess;
pub mod state;

use burn::prelude::*;
use image::RgbImage;

pub use model::{PeelUNet, UNetConfig};
pub use state::{LoadError, Manifest, load_model};

/// A loaded generator on one device.
pub struct Generator {
    pub manifest: Manifest,
    pub model: PeelUNet,
    pub device: Device,
}

impl Generator {
    pub fn new(manifest: Manifest, weights: Vec<u8>, device: Device) -> Result<Self, LoadError> {
        let model = load_model(&manifest, weights, &device)?;
        Ok(Self { manifest, model, device })
    }

    fn forward(&self, input: &preprocess::ModelInput) -> Tensor<4> {
        let shape = [1, 3, input.height as usize, input.width as usize];
        let tensor = Tensor::<1>::from_floats(input.chw.as_slice(), &self.device).reshape(shape);
        self.model.forward(tensor)
    }

    /// Paints the visualization of `photo` at model resolution (see [`preprocess`]).
    pub fn paint(&self, photo: &RgbImage) -> Result<RgbImage, String> {
        let input = preprocess::prepare(photo, self.manifest.input_long_side);
        let data = self.forward(&input).into_data();
        read_painting(data, &input)
    }

    /// As [`Self::paint`], reading the result back without blocking (required on WebGPU).
    pub async fn paint_async(&self, photo: &RgbImage) -> Result<RgbImage, String> {
        let input = preprocess::prepare(photo, self.manifest.input_long_side);
        let data = self.forward(&input).into_data_async().await.map_err(|e| format!("{e:?}"))?;
        read_painting(data, &input)
    }
}

fn read_painting(data: TensorData, input: &preprocess::ModelInput) -> Result<RgbImage, String> {
    let values = data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    Ok(preprocess::chw_to_rgb8(&values, input.width, input.height))
}
