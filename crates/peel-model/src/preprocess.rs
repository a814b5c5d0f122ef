//! Photo → model input, and the painted output → a visualization at the photo's size.
//!
//! Any size and aspect is accepted. The photo is resized (bilinear, `FilterType::Triangle`) so
//! its long side is the manifest's `input_long_side` (or the painting network's own), each side rounded to a multiple of
//! [`SIZE_MULTIPLE`] (at least one multiple), which can change the aspect by up to about 7 %
//! at the default 256 (half a multiple on the short side); pixels are normalised to `rgb / 127.5 − 1`.
//! [`model_size`] is the one sizing rule: the Python evaluation copies it, and
//! `tests/fixtures/model_sizes.json` (written by Python) holds both to it. The generator paints at half that resolution
//! ([`OUTPUT_STRIDE`]), and the painting is brought back to the photo's own size ([`finish`]: instance and
//! referring paintings lose their specks first, then [`to_photo_size`]):
//!
//! - [`Upsampling::Guided`] (the default, in the page and `peel run`): joint bilateral
//!   upsampling guided by the photo ([`crate::upsample`]), so painted edges follow the photo's;
//!   segmentation votes among painted colours, depth and normals blend them;
//! - [`Upsampling::Resize`]: the photo-blind resize, nearest neighbour for segmentation (every
//!   pixel keeps a painted colour, so the colour decoders still find the entries) and bilinear
//!   (`FilterType::Triangle`) for depth and normals (blends of neighbouring colours on the depth
//!   walk or the normal sphere decode to in-between values).

use crate::architecture::{OUTPUT_STRIDE, SIZE_MULTIPLE};
use crate::despeckle::despeckle;
use crate::upsample::{self, Combine};
use image::{RgbImage, imageops::FilterType};
use peel_protocol::prompt::Task;

/// Model-input size for a photo of `width`×`height`.
pub fn model_size(width: u32, height: u32, long_side: u32) -> (u32, u32) {
    let m = SIZE_MULTIPLE as u32;
    let long = width.max(height).max(1) as f64;
    let side = |s: u32| {
        let scaled = (s as f64 * long_side as f64 / long).round() as u32;
        (((scaled + m / 2) / m) * m).max(m)
    };
    (side(width), side(height))
}

/// Size of the painting for a model input of `width`×`height`.
pub fn output_size(width: u32, height: u32) -> (u32, u32) {
    (width / OUTPUT_STRIDE as u32, height / OUTPUT_STRIDE as u32)
}

/// The input normalisation [`prepare`] implements, as the manifest's `normalization` names it;
/// a manifest naming another is refused (the trainer writes the field, so it is checked, not copied).
pub const NORMALIZATION: &str = "rgb / 127.5 - 1";

/// A photo resized and normalised for the network: planar CHW, f32 in `[-1, 1]`.
pub struct ModelInput {
    pub width: u32,
    pub height: u32,
    pub chw: Vec<f32>,
}

pub fn prepare(photo: &RgbImage, long_side: u32) -> ModelInput {
    let (width, height) = model_size(photo.width(), photo.height(), long_side);
    let resized = image::imageops::resize(photo, width, height, FilterType::Triangle);
    let plane = (width * height) as usize;
    let mut chw = vec![0.0f32; 3 * plane];
    for (i, pixel) in resized.pixels().enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = pixel[c] as f32 / 127.5 - 1.0;
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

/// How a painting is brought to the photo's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Upsampling {
    /// Joint bilateral upsampling guided by the photo's edges.
    #[default]
    Guided,
    /// A photo-blind resize: nearest neighbour for [`Combine::Vote`], bilinear for [`Combine::Average`].
    Resize,
}

/// Share of an instance or referring painting under which a piece of one colour is a speck, not a
/// thing ([`crate::despeckle`]). Chosen on synthetic scenes rendered for it and on COCO128 train, not
/// on an evaluation set (docs/MODEL.md, "Specks are not instances").
pub const SPECK_SHARE: f64 = 1.0 / 400.0;

/// The generator's painting for `task` as users get it: for instance and referring paintings, whose
/// decoders count pieces, pieces under `speck_share` of the painting repainted from their surroundings
/// (the app passes [`SPECK_SHARE`]; 0 keeps them); then at the photo's size.
pub fn finish(mut painting: RgbImage, photo: &RgbImage, task: Task, upsampling: Upsampling, speck_share: f64) -> RgbImage {
    if matches!(task, Task::Instance | Task::Referring) {
        let pixels = painting.width() as f64 * painting.height() as f64;
        despeckle(&mut painting, (pixels * speck_share).ceil() as usize);
    }
    to_photo_size(painting, photo, Combine::for_task(task), upsampling)
}

/// The painting at the photo's size, by `upsampling`; `combine` says whether its colours may blend.
pub fn to_photo_size(painting: RgbImage, photo: &RgbImage, combine: Combine, upsampling: Upsampling) -> RgbImage {
    let (width, height) = photo.dimensions();
    if painting.dimensions() == (width, height) {
        return painting;
    }
    match upsampling {
        Upsampling::Guided => upsample::guided(&painting, photo, combine),
        Upsampling::Resize => {
            let filter = match combine {
                Combine::Vote => FilterType::Nearest,
                Combine::Average => FilterType::Triangle,
            };
            image::imageops::resize(&painting, width, height, filter)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_size_keeps_aspect_and_multiple() {
        assert_eq!(model_size(1024, 768, 256), (256, 192));
        assert_eq!(model_size(768, 1024, 256), (192, 256));
        assert_eq!(model_size(5000, 10, 256), (256, 32));
        assert_eq!(model_size(300, 300, 256), (256, 256));
        assert_eq!(model_size(1, 1, 256), (256, 256));
        let (w, h) = model_size(640, 427, 256);
        assert_eq!((w, h), (256, 160));
        assert_eq!(output_size(256, 192), (128, 96));
    }

    #[test]
    fn prepare_maps_bytes_to_minus_one_one() {
        let photo = RgbImage::from_pixel(40, 20, image::Rgb([255, 0, 128]));
        let input = prepare(&photo, 64);
        assert_eq!((input.width, input.height), (64, 32));
        let plane = 64 * 32;
        assert!((input.chw[0] - 1.0).abs() < 1e-6);
        assert!((input.chw[plane] + 1.0).abs() < 1e-6);
        assert!((input.chw[2 * plane + 5] - (128.0 / 127.5 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn chw_round_trips_to_rgb8() {
        let chw = vec![0.0, 1.0, 0.5, 0.25, 2.0, -1.0];
        let image = chw_to_rgb8(&chw, 2, 1);
        assert_eq!(image.get_pixel(0, 0).0, [0, 128, 255]);
        assert_eq!(image.get_pixel(1, 0).0, [255, 64, 0]);
    }

    #[test]
    fn both_upsamplings_of_a_segmentation_keep_only_painted_colours() {
        let painting = RgbImage::from_fn(4, 2, |x, _| if x < 2 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) });
        let photo = RgbImage::from_fn(13, 7, |x, y| image::Rgb([(x * 19) as u8, (y * 37) as u8, 7]));
        for upsampling in [Upsampling::Guided, Upsampling::Resize] {
            let big = to_photo_size(painting.clone(), &photo, Combine::Vote, upsampling);
            assert_eq!(big.dimensions(), (13, 7));
            assert!(big.pixels().all(|p| p.0 == [255, 0, 0] || p.0 == [0, 0, 255]), "{upsampling:?}");
        }
    }
}
