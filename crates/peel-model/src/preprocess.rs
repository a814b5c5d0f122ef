//! Photo → model input, and model output → visualization image.
//!
//! Any size and aspect is accepted. The photo is resized (Catmull-Rom) so its long side is the
//! manifest's `input_long_side`, each side rounded to a multiple of [`SIZE_MULTIPLE`], which
//! changes the aspect by at most a few percent. The generator paints at that size; callers
//! decode there and map readouts back to photo coordinates by scaling.

use crate::model::SIZE_MULTIPLE;
use image::{RgbImage, imageops::FilterType};

/// ImageNet statistics, the convention of the pretrained encoders Peel starts from.
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Model-resolution size for a photo of `width`×`height`.
pub fn model_size(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let m = SIZE_MULTIPLE as u32;
    let long = width.max(height).max(1) as f64;
    let side = |s: u32| {
        let scaled = (s as f64 * long_side as f64 / long).round() as u32;
        (((scaled + m / 2) / m) * m).max(m)
    };
    (side(width), side(height))
}

/// A photo resized and normalised for the network: planar CHW, f32.
pub struct ModelInput {
    pub width: u32,
    pub height: u32,
    pub chw: Vec<f32>,
}

pub fn prepare(photo: &RgbImage, long_side: u32) -> ModelInput {
    let (width, height) = model_size(photo.width(), photo.height(), long_side);
    let resized = image::imageops::resize(photo, width, height, FilterType::CatmullRom);
    let plane = (width * height) as usize;
    let mut chw = vec![0.0f32; 3 * plane];
    for (i, pixel) in resized.pixels().enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = (pixel[c] as f32 / 255.0 - MEAN[c]) / STD[c];
        }
    }
    ModelInput { width, height, chw }
}

/// Planar CHW values in `[0, 1]` → an 8-bit RGB image.
pub fn chw_to_rgb8(chw: &[f32], width: u32, height: u32) -> RgbImage {
    let plane = (width * height) as usize;
    RgbImage::from_fn(width, height, |x, y| {
        let i = (y * width + x) as usize;
        let channel = |c: usize| (chw[c * plane + i].clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([channel(0), channel(1), channel(2)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_size_keeps_aspect_and_multiple() {
        assert_eq!(model_size(1024, 768, 256), (256, 192));
        assert_eq!(model_size(768, 1024, 256), (192, 256));
        assert_eq!(model_size(5000, 10, 256), (256, 8));
        assert_eq!(model_size(300, 300, 256), (256, 256));
        let (w, h) = model_size(640, 427, 256);
        assert_eq!((w % 8, h % 8), (0, 0));
        assert!(((w as f64 / h as f64) - 640.0 / 427.0).abs() < 0.05);
    }

    #[test]
    fn prepare_normalises_per_channel() {
        let photo = RgbImage::from_pixel(40, 20, image::Rgb([255, 0, 128]));
        let input = prepare(&photo, 16);
        assert_eq!((input.width, input.height), (16, 8));
        let plane = 16 * 8;
        assert!((input.chw[0] - (1.0 - MEAN[0]) / STD[0]).abs() < 1e-5);
        assert!((input.chw[plane] - (0.0 - MEAN[1]) / STD[1]).abs() < 1e-5);
        assert!((input.chw[2 * plane + 5] - (128.0 / 255.0 - MEAN[2]) / STD[2]).abs() < 1e-2);
    }

    #[test]
    fn chw_round_trips_to_rgb8() {
        let chw = vec![0.0, 1.0, 0.5, 0.25, 2.0, -1.0];
        let image = chw_to_rgb8(&chw, 2, 1);
        assert_eq!(image.get_pixel(0, 0).0, [0, 128, 255]);
        assert_eq!(image.get_pixel(1, 0).0, [255, 64, 0]);
    }
}
