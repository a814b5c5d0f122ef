//! One decoder for every task: a request and its painting → values, segments and a summary.
//!
//! [`decode_painting`] is the only place that picks the decoder for a task. The page's worker
//! (`peel-worker`) and `peel decode` / `peel run --decoded` (`peel-cli`) both call it, and both
//! build their files from its [`Decoded`] with [`crate::export`], so a painting decodes to the same
//! values and the same file bytes in the browser and on the command line.
//!
//! Bit-identical on every target: the decoders use IEEE arithmetic and square roots, and the
//! transcendental functions they need (`pow` in depth, `tan` in the point cloud) come from the
//! `libm` crate, which is what Rust's std links in wasm32 anyway, rather than the platform's C
//! library, so the page's wasm and the native CLI get the same bits.
//!
//! **Labels** (semantic, instance and referring alike): per pixel, `0` = none of the segments
//! (unlabeled, background, no target), `i` = `segments[i − 1]`, i.e. 1-based in prompt order
//! (semantic classes, referring targets) or in the instance decoder's order. The JSON legend
//! ([`crate::export::legend_json`]) lists the segments under these labels.

use crate::color::Rgb8;
use crate::error::ProtocolError;
use crate::normals;
use crate::prompt::Request;
use crate::segmentation::{DEFAULT_TOLERANCE, UNLABELED, instance, referring, semantic};

/// Decoder settings besides the request. The page always uses [`DecodeOptions::default`];
/// `peel decode` lets its flags change them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    /// Colour tolerance of semantic and referring decoding, in 8-bit RGB units.
    pub tolerance: f32,
    /// Instance decoding's background tolerance, cluster radius and smallest instance.
    pub instance: instance::InstanceParams,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self { tolerance: DEFAULT_TOLERANCE, instance: instance::InstanceParams::default() }
    }
}

/// The decoded values, one entry (or three floats) per pixel, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Metres per pixel; `f32::INFINITY` for sky.
    Depth(Vec<f32>),
    /// Unit normals, x, y, z per pixel (+x right, +y up, +z towards the viewer); `[0, 0, 0]` where
    /// the colour has no direction.
    Normals(Vec<f32>),
    /// Semantic, instance and referring: `0` = none of the segments, `i` = `segments[i − 1]`.
    Labels(Vec<u16>),
}

/// One segment of a label map: a semantic class, an instance or a referred phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Segment {
    /// The class or phrase as the prompt names it; instances are `"<class> <n>"`.
    pub name: String,
    /// Its colour in the painting (from the prompt, or the instance's mean colour).
    pub color: Rgb8,
    /// Pixels labelled with it.
    pub pixels: u32,
}

/// Summary of a decoded depth map, in metres (sky, decoded as infinity, is excluded).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DepthSummary {
    /// Nearest finite depth (`inf` when every pixel is sky).
    pub min_m: f32,
    /// Median finite depth (the upper median; NaN when every pixel is sky).
    pub median_m: f32,
    /// Farthest finite depth (`-inf` when every pixel is sky).
    pub max_m: f32,
    /// Fraction of pixels decoded as sky (infinitely far).
    pub sky_fraction: f32,
    /// Median distance of the painted colours from the colormap path, in [0, 1] RGB units.
    pub median_off_path: f32,
}

/// How much of the picture faces the camera, up or sideways.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NormalSummary {
    /// Fraction of pixels whose normal is within 30° of the camera axis.
    pub facing_camera: f32,
    /// Fraction within 30° of straight up (floors, table tops).
    pub facing_up: f32,
    /// Mean normal, renormalised.
    pub mean: [f32; 3],
    /// Mean length of the raw decoded vectors before renormalising (1 for exact encodings).
    pub mean_raw_length: f32,
}

/// Summary of a label map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SegmentSummary {
    /// Pixels labelled 0: none of the segments.
    pub unlabeled_pixels: u32,
}

/// The task's summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Summary {
    Depth(DepthSummary),
    Normals(NormalSummary),
    Segments(SegmentSummary),
}

/// A painting decoded: its values, its segments (empty for depth and normals) and a summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub values: Values,
    /// Label `i` of [`Values::Labels`] is `segments[i − 1]`.
    pub segments: Vec<Segment>,
    pub summary: Summary,
}

/// Decodes `rgb` (tightly packed 8-bit RGB, `width`×`height`), painted for `request`.
///
/// Depth uses the request's codec; semantic and referring labels follow the prompt's order;
/// instances are named `"<class> 1"`, `"<class> 2"`, … in the instance decoder's order.
pub fn decode_painting(request: &Request, rgb: &[u8], width: u32, height: u32, options: &DecodeOptions) -> Result<Decoded, ProtocolError> {
    let (values, segments, summary) = match request {
        Request::Depth(codec) => {
            let map = codec.decode_image(rgb, width, height)?;
            let summary = depth_summary(&map.meters, &map.off_path);
            (Values::Depth(map.meters), Vec::new(), Summary::Depth(summary))
        }
        Request::Normals => {
            let map = normals::decode_image(rgb, width, height)?;
            let summary = normal_summary(&map.normals, &map.raw_length);
            (Values::Normals(map.normals.into_iter().flatten().collect()), Vec::new(), Summary::Normals(summary))
        }
        Request::Semantic { classes } => {
            check_label_count(classes.len())?;
            let palette: Vec<Rgb8> = classes.iter().map(|c| c.color).collect();
            let map = semantic::decode(rgb, width, height, &palette, options.tolerance)?;
            let counts = map.counts(classes.len());
            let segments = classes.iter().zip(counts).map(|(c, n)| segment(&c.name, c.color, n)).collect();
            // The decoder's 0-based class index (UNLABELED for none) becomes label index + 1.
            let labels = map.labels.iter().map(|&l| if l == UNLABELED { 0 } else { l + 1 }).collect();
            labelled(labels, segments)
        }
        Request::Instance { class, background } => {
            let map = instance::decode(rgb, width, height, *background, &options.instance)?;
            check_label_count(map.instances.len())?;
            // Instance ids are already 1-based positions in `instances`, 0 = background.
            let segments = map.instances.iter().enumerate().map(|(i, inst)| segment(&format!("{class} {}", i + 1), inst.color, inst.pixels)).collect();
            labelled(map.ids, segments)
        }
        Request::Referring { targets, background } => {
            check_label_count(targets.len())?;
            let colours: Vec<Rgb8> = targets.iter().map(|t| t.color).collect();
            let masks = referring::decode(rgb, width, height, &colours, *background, options.tolerance)?;
            // Referring labels are already 0 = no target, i + 1 = target i.
            let segments = targets.iter().zip(masks.counts()).map(|(t, n)| segment(&t.name, t.color, n)).collect();
            labelled(masks.labels(), segments)
        }
    };
    Ok(Decoded { width, height, values, segments, summary })
}

fn segment(name: &str, color: Rgb8, pixels: usize) -> Segment {
    Segment { name: name.to_string(), color, pixels: u32::try_from(pixels).unwrap_or(u32::MAX) }
}

fn labelled(labels: Vec<u16>, segments: Vec<Segment>) -> (Values, Vec<Segment>, Summary) {
    let unlabeled = labels.iter().filter(|&&l| l == 0).count();
    let summary = SegmentSummary { unlabeled_pixels: u32::try_from(unlabeled).unwrap_or(u32::MAX) };
    (Values::Labels(labels), segments, Summary::Segments(summary))
}

/// Labels are u16 with 0 for none, so at most 65 535 segments.
fn check_label_count(n: usize) -> Result<(), ProtocolError> {
    if n > usize::from(u16::MAX) {
        return Err(ProtocolError::InvalidParameter {
            name: "segments",
            value: n.to_string(),
            reason: "a label map holds at most 65535 segments",
        });
    }
    Ok(())
}

/// The upper median (`values[len / 2]` once sorted); NaN for no values.
pub fn median(mut values: Vec<f32>) -> f32 {
    if values.is_empty() {
        return f32::NAN;
    }
    let middle = values.len() / 2;
    *values.select_nth_unstable_by(middle, f32::total_cmp).1
}

/// The depth summary of decoded metres and their off-path distances.
pub fn depth_summary(meters: &[f32], off_path: &[f32]) -> DepthSummary {
    let finite: Vec<f32> = meters.iter().copied().filter(|d| d.is_finite()).collect();
    DepthSummary {
        min_m: finite.iter().copied().fold(f32::INFINITY, f32::min),
        max_m: finite.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        sky_fraction: 1.0 - finite.len() as f32 / meters.len().max(1) as f32,
        median_m: median(finite),
        median_off_path: median(off_path.to_vec()),
    }
}

/// The normal summary of unit normals and their raw lengths.
pub fn normal_summary(normals: &[[f32; 3]], raw_length: &[f32]) -> NormalSummary {
    let cos30 = 30f32.to_radians().cos();
    let n = normals.len().max(1) as f32;
    let facing_camera = normals.iter().filter(|v| v[2] >= cos30).count() as f32 / n;
    let facing_up = normals.iter().filter(|v| v[1] >= cos30).count() as f32 / n;
    let sum = normals.iter().fold([0f32; 3], |a, v| [a[0] + v[0], a[1] + v[1], a[2] + v[2]]);
    let len = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]).sqrt().max(1e-12);
    let mean_raw_length = (raw_length.iter().map(|&l| f64::from(l)).sum::<f64>() / raw_length.len().max(1) as f64) as f32;
    NormalSummary { facing_camera, facing_up, mean: sum.map(|c| c / len), mean_raw_length }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::depth::DepthCodec;
    use crate::prompt::parse;

    fn paint(width: u32, height: u32, colour_at: impl Fn(u32, u32) -> Rgb8) -> Vec<u8> {
        let mut rgb = Vec::new();
        for y in 0..height {
            for x in 0..width {
                rgb.extend_from_slice(&colour_at(x, y));
            }
        }
        rgb
    }

    fn decode(prompt: &str, rgb: &[u8], width: u32, height: u32) -> Decoded {
        decode_painting(&parse(prompt).unwrap(), rgb, width, height, &DecodeOptions::default()).unwrap()
    }

    #[test]
    fn semantic_labels_are_one_based_with_zero_for_none() {
        let prompt = r#"Generate a semantic segmentation visualization image, using this color mapping: {"cat": "red", "sky": "blue"}"#;
        // Columns: red, blue, grey (neither), red.
        let colours = [[250, 5, 0], [0, 0, 255], [128, 128, 128], [255, 0, 0]];
        let rgb = paint(4, 2, |x, _| colours[x as usize]);
        let decoded = decode(prompt, &rgb, 4, 2);
        assert_eq!(decoded.values, Values::Labels(vec![1, 2, 0, 1, 1, 2, 0, 1]));
        let names: Vec<_> = decoded.segments.iter().map(|s| (s.name.as_str(), s.color, s.pixels)).collect();
        assert_eq!(names, vec![("cat", [255, 0, 0], 4), ("sky", [0, 0, 255], 2)]);
        assert_eq!(decoded.summary, Summary::Segments(SegmentSummary { unlabeled_pixels: 2 }));
        assert_eq!((decoded.width, decoded.height), (4, 2));
    }

    #[test]
    fn referring_and_instance_labels_follow_the_same_convention() {
        let prompt = "A segmentation map image. The cat is rendered in red; the cup is rendered in cyan.";
        let rgb = paint(3, 1, |x, _| [[0, 255, 255], [0, 0, 0], [255, 0, 0]][x as usize]);
        let decoded = decode(prompt, &rgb, 3, 1);
        assert_eq!(decoded.values, Values::Labels(vec![2, 0, 1]));
        assert_eq!(decoded.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["The cat", "the cup"]);

        // Two 5×5 squares on black, far enough apart to be two instances (each ≥ 16 pixels).
        let prompt = "Generate an instance segmentation visualization of this image. Each box is colored differently.";
        let rgb = paint(12, 5, |x, _| if x < 5 { [255, 0, 0] } else if x >= 7 { [0, 0, 255] } else { [0, 0, 0] });
        let decoded = decode(prompt, &rgb, 12, 5);
        let Values::Labels(labels) = &decoded.values else { panic!("labels expected") };
        assert_eq!(decoded.segments.len(), 2);
        for (i, s) in decoded.segments.iter().enumerate() {
            assert_eq!(s.name, format!("box {}", i + 1));
            assert_eq!(labels.iter().filter(|&&l| usize::from(l) == i + 1).count(), s.pixels as usize);
        }
        assert_eq!(labels.iter().filter(|&&l| l == 0).count(), 10);
        assert_eq!(decoded.summary, Summary::Segments(SegmentSummary { unlabeled_pixels: 10 }));
    }

    #[test]
    fn depth_uses_the_prompts_codec_and_summarises_with_medians() {
        let codec = DepthCodec::new(-4.0, 120.0).unwrap();
        let meters = [1.0f32, 2.0, 4.0, f32::INFINITY, 8.0, 16.0];
        let rgb: Vec<u8> = meters.iter().flat_map(|&m| codec.encode_rgb8(m)).collect();
        let decoded = decode("Generate a metric depth map. lambda = -4, c = 120", &rgb, 3, 2);
        let expected = codec.decode_image(&rgb, 3, 2).unwrap();
        assert_eq!(decoded.values, Values::Depth(expected.meters.clone()));
        assert!(decoded.segments.is_empty());
        let Summary::Depth(s) = decoded.summary else { panic!("depth summary expected") };
        let finite: Vec<f32> = expected.meters.iter().copied().filter(|m| m.is_finite()).collect();
        assert_eq!((s.min_m, s.max_m), (finite[0], finite[4]));
        assert_eq!(s.median_m, finite[2], "the upper median of five");
        assert!((s.sky_fraction - 1.0 / 6.0).abs() < 1e-6);
        assert_eq!(s.median_off_path, median(expected.off_path.clone()));
        // The paper's codec reads the same colours as other depths.
        let paper = decode("Generate a metric depth map of the input image.", &rgb, 3, 2);
        assert_ne!(paper.values, decoded.values);
    }

    #[test]
    fn normals_are_flattened_and_summarised() {
        let rgb = paint(2, 1, |x, _| if x == 0 { [128, 128, 255] } else { [128, 255, 128] });
        let decoded = decode("Generate a surface normal map of the input image.", &rgb, 2, 1);
        let Values::Normals(xyz) = &decoded.values else { panic!("normals expected") };
        assert_eq!(xyz.len(), 6);
        assert!(xyz[2] > 0.99 && xyz[4] > 0.99, "{xyz:?}");
        let Summary::Normals(s) = decoded.summary else { panic!("normal summary expected") };
        assert_eq!((s.facing_camera, s.facing_up), (0.5, 0.5));
        assert!((s.mean_raw_length - 1.0).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn median_is_the_upper_median_and_nan_when_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0, 4.0]), 3.0);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), 3.0);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn bad_buffers_are_errors() {
        let request = parse("Generate a metric depth map of the input image.").unwrap();
        assert!(decode_painting(&request, &[0; 5], 2, 1, &DecodeOptions::default()).is_err());
        assert!(decode_painting(&Request::Normals, &[], 0, 0, &DecodeOptions::default()).is_err());
    }
}
