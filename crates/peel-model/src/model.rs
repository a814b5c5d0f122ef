//! The generator network: a small U-Net that paints a task's visualization in one step.
//!
//! The same architecture is defined in `train/peel_train/model.py`; tensor names match
//! (`stem.first.weight`, `down1.second.bias`, ...) so PyTorch checkpoints load without remapping.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{PaddingConfig2d, Relu};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use serde::{Deserialize, Serialize};

/// Every spatial side of the input must be a multiple of this (three stride-2 levels).
pub const SIZE_MULTIPLE: usize = 8;

/// Architecture hyper-parameters, stored in `weights/manifest.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UNetConfig {
    /// Channels of the full-resolution stem; each level down doubles it, capped at 4×.
    pub base_channels: usize,
}

/// Two 3×3 convolutions with ReLU; the first one may stride.
#[derive(Module, Debug)]
pub struct ConvPair {
    first: Conv2d,
    second: Conv2d,
}

impl ConvPair {
    fn new(channels_in: usize, channels_out: usize, stride: usize, device: &Device) -> Self {
        let conv = |c_in, stride| {
            Conv2dConfig::new([c_in, channels_out], [3, 3])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            first: conv(channels_in, stride),
            second: conv(channels_out, 1),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = Relu::new().forward(self.first.forward(x));
        Relu::new().forward(self.second.forward(x))
    }
}

/// Encoder–decoder with skip connections. Input: `[batch, 3, H, W]` normalised RGB
/// (see [`crate::preprocess`]); output: `[batch, 3, H, W]` visualization RGB in `[0, 1]`.
#[derive(Module, Debug)]
pub struct PeelUNet {
    stem: ConvPair,
    down1: ConvPair,
    down2: ConvPair,
    down3: ConvPair,
    up2: ConvPair,
    up1: ConvPair,
    up0: ConvPair,
    head: Conv2d,
}

impl PeelUNet {
    pub fn new(config: &UNetConfig, device: &Device) -> Self {
        let c = config.base_channels;
        Self {
            stem: ConvPair::new(3, c, 1, device),
            down1: ConvPair::new(c, 2 * c, 2, device),
            down2: ConvPair::new(2 * c, 4 * c, 2, device),
            down3: ConvPair::new(4 * c, 4 * c, 2, device),
            up2: ConvPair::new(8 * c, 4 * c, 1, device),
            up1: ConvPair::new(6 * c, 2 * c, 1, device),
            up0: ConvPair::new(3 * c, c, 1, device),
            head: Conv2dConfig::new([c, 3], [1, 1]).init(device),
        }
    }

    pub fn forward(&self, image: Tensor<4>) -> Tensor<4> {
        let s0 = self.stem.forward(image);
        let s1 = self.down1.forward(s0.clone());
        let s2 = self.down2.forward(s1.clone());
        let s3 = self.down3.forward(s2.clone());
        let x = self.up2.forward(upsample_and_join(s3, s2));
        let x = self.up1.forward(upsample_and_join(x, s1));
        let x = self.up0.forward(upsample_and_join(x, s0));
        sigmoid(self.head.forward(x))
    }
}

/// Nearest-neighbour upsampling to the skip's size, then channel concatenation (coarse first).
fn upsample_and_join(coarse: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
    let [_, _, height, width] = skip.dims();
    let options = InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([height, width]);
    Tensor::cat(vec![interpolate(coarse, options), skip], 1)
}
