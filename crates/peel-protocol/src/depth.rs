//! Metric depth codec: power transform + walk along seven edges of the RGB cube.
//!
//! **Encode.** Depth `d` in metres is first squashed to `f ∈ [0, 1)` by Barron's power transform
//! as parameterised by the `hilbertmap` reference implementation:
//!
//! ```text
//! f(d) = 1 − (1 − d / (λ·c))^(λ + 1)          inverse: d = λ·c · (1 − (1 − f)^(1 / (λ + 1)))
//! ```
//!
//! The paper's choice λ = −3, c = 10/3 gives `f(d) = 1 − (1 + d/10)^(−2)`; half the colour range
//! covers 0–4.14 m. Then `f` walks linearly along 7 cube edges,
//! black → red → yellow → green → cyan → blue → magenta → white ([`CUBE_WALK`]):
//! with `s = 7f`, `k = min(⌊s⌋, 6)`, `t = s − k`, the colour is `V_k + t·(V_{k+1} − V_k)`.
//! Infinite depth (sky) is white. Negative depth is treated as 0 and NaN as 0 (black). In 8 bits the
//! last step before white is 412.5 m ([`DepthCodec::far_limit_rgb8`]); real generator output paints
//! sky as white or that step, so read depths at or beyond it as sky.
//!
//! | vertex  | red   | yellow | green | cyan  | blue  | magenta | white |
//! |---------|-------|--------|-------|-------|-------|---------|-------|
//! | depth m | 0.801 | 1.832  | 3.229 | 5.275 | 8.708 | 16.458  | ∞     |
//!
//! **Decode.** The colour is projected onto each of the 7 segments (parameter clamped to [0, 1]);
//! the nearest segment wins (ties go to the earlier segment), `f = (k + t)/7`, and the transform is
//! inverted. The distance from the colour to the path, in [0, 1] RGB units, is returned as
//! `off_path`: an exact 8-bit encoding is on the path (0), while real generator output sits off it
//! (the paper's own images average about 0.015–0.021). Treat `off_path` as a confidence, not an error.
//!
//! **Precision.** In float, encode→decode recovers `f` to ~1e-7 and depth to a relative 1e-4 up to
//! 1 km (beyond that the f32 colour channel, not the transform, limits it). Through 8 bits the walk
//! is quantised to 7·255 = 1785 steps; decoding recovers `f` within half a step,
//! e.g. 1 m → (255, 55, 0) → 1.0008 m and 10 m → (64, 0, 255) → 10.006 m.
//!
//! **Range-tuned variants.** λ < −1 and c > 0 are free parameters ([`DepthCodec::new`]); long-range
//! outdoor scenes do better with e.g. λ = −4, c = 120 (half the range covers 0–125 m). The default is
//! the paper's.

use crate::error::{ProtocolError, check_buffer};

/// The cube-walk vertices, in order, as RGB in [0, 1].
pub const CUBE_WALK: [[f32; 3]; 8] = [
    [0.0, 0.0, 0.0], // black
    [1.0, 0.0, 0.0], // red
    [1.0, 1.0, 0.0], // yellow
    [0.0, 1.0, 0.0], // green
    [0.0, 1.0, 1.0], // cyan
    [0.0, 0.0, 1.0], // blue
    [1.0, 0.0, 1.0], // magenta
    [1.0, 1.0, 1.0], // white
];

/// Number of edges the walk follows.
pub const SEGMENTS: usize = 7;

/// Power-transform parameters. `Default` is the paper's (λ = −3, c = 10/3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthCodec {
    pub lambda: f32,
    pub c: f32,
}

impl Default for DepthCodec {
    fn default() -> Self {
        Self::PAPER
    }
}

/// One decoded pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthSample {
    /// Metric depth; `f32::INFINITY` for white (sky).
    pub meters: f32,
    /// Euclidean distance of the colour from the cube walk, in [0, 1] RGB units.
    pub off_path: f32,
}

/// A decoded depth image, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthMap {
    pub width: u32,
    pub height: u32,
    /// Metres per pixel; `f32::INFINITY` where the image is white (sky).
    pub meters: Vec<f32>,
    /// Distance of each pixel's colour from the walk (see the module docs).
    pub off_path: Vec<f32>,
}

/// Where a colour lands on the walk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkPoint {
    /// Position along the walk, in [0, 1].
    pub position: f32,
    /// Distance from the colour to that point, in [0, 1] RGB units.
    pub distance: f32,
}

impl DepthCodec {
    /// The paper's parameters: λ = −3, c = 10/3, i.e. `f(d) = 1 − (1 + d/10)^(−2)`.
    pub const PAPER: Self = Self { lambda: -3.0, c: 10.0 / 3.0 };

    /// A range-tuned codec; rejects parameters for which `f` would not map [0, ∞) onto [0, 1).
    pub fn new(lambda: f32, c: f32) -> Result<Self, ProtocolError> {
        let codec = Self { lambda, c };
        codec.validate()?;
        Ok(codec)
    }

    /// Checks λ < −1 and c > 0 (both finite), which make the transform increasing onto [0, 1).
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if !(self.lambda.is_finite() && self.lambda < -1.0) {
            return Err(ProtocolError::InvalidParameter {
                name: "lambda",
                value: self.lambda.to_string(),
                reason: "must be finite and below -1",
            });
        }
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(ProtocolError::InvalidParameter {
                name: "c",
                value: self.c.to_string(),
                reason: "must be finite and positive",
            });
        }
        Ok(())
    }

    /// The power transform `f(d)`: metres in [0, ∞] to [0, 1]. Negative and NaN depths give 0.
    pub fn normalize(&self, meters: f32) -> f32 {
        self.normalize_f64(meters) as f32
    }

    /// The inverse transform: [0, 1] to metres; 1 gives infinity.
    pub fn denormalize(&self, f: f32) -> f32 {
        self.denormalize_f64(f64::from(f)) as f32
    }

    // f64 inside, so that precision is limited by the f32 colour, not the transform.
    fn normalize_f64(&self, meters: f32) -> f64 {
        let d = if meters > 0.0 { f64::from(meters) } else { 0.0 };
        let (lambda, c) = (f64::from(self.lambda), f64::from(self.c));
        (1.0 - libm::pow(1.0 - d / (lambda * c), lambda + 1.0)).clamp(0.0, 1.0)
    }

    fn denormalize_f64(&self, f: f64) -> f64 {
        let (lambda, c) = (f64::from(self.lambda), f64::from(self.c));
        let f = f.clamp(0.0, 1.0);
        // (1 − f)^(negative) is +∞ at f = 1, so white decodes to infinite depth. `libm::pow`, not
        // `f64::powf`: the same bits natively as in the page's wasm (see `crate::decode`).
        lambda * c * (1.0 - libm::pow(1.0 - f, 1.0 / (lambda + 1.0)))
    }

    /// The farthest finite depth an 8-bit image can hold: one step before white, (255, 254, 255).
    /// For the paper's codec it is 412.5 m; generators paint sky as white or this step, so
    /// depths at or beyond it are best read as sky.
    pub fn far_limit_rgb8(&self) -> f32 {
        self.decode_rgb8([255, 254, 255]).meters
    }

    /// Colour of a depth, RGB in [0, 1]. Infinity gives white.
    pub fn encode(&self, meters: f32) -> [f32; 3] {
        walk_f64(self.normalize_f64(meters))
    }

    /// Colour of a depth in 8 bits (rounded to nearest).
    pub fn encode_rgb8(&self, meters: f32) -> [u8; 3] {
        let rgb = self.encode(meters);
        rgb.map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
    }

    /// Depth of a colour (RGB in [0, 1]), with its distance from the walk.
    pub fn decode(&self, rgb: [f32; 3]) -> DepthSample {
        let (segment, t, distance_sq) = project_segment(rgb);
        let f = (segment as f64 + f64::from(t)) / SEGMENTS as f64;
        DepthSample { meters: self.denormalize_f64(f) as f32, off_path: distance_sq.sqrt() }
    }

    /// Depth of an 8-bit colour.
    pub fn decode_rgb8(&self, rgb: [u8; 3]) -> DepthSample {
        self.decode(rgb.map(|v| f32::from(v) / 255.0))
    }

    /// Decodes a tightly packed 8-bit RGB image (row-major, 3 bytes per pixel).
    pub fn decode_image(&self, rgb8: &[u8], width: u32, height: u32) -> Result<DepthMap, ProtocolError> {
        self.validate()?;
        let pixels = check_buffer(rgb8.len(), width, height, 3)?;
        let mut meters = Vec::with_capacity(pixels);
        let mut off_path = Vec::with_capacity(pixels);
        // A painting repeats its colours (flat regions, the upsampler's blends: tens of
        // thousands of distinct colours in a megapixel), and decoding one costs a projection
        // onto seven segments and a `pow`: remember recent colours in a direct-mapped table.
        // A hit returns exactly what `decode_rgb8` returned for that colour.
        const SLOTS_LOG2: u32 = 14;
        let mut recent = vec![(u32::MAX, DepthSample { meters: 0.0, off_path: 0.0 }); 1 << SLOTS_LOG2];
        for px in rgb8.chunks_exact(3) {
            let key = u32::from(px[0]) << 16 | u32::from(px[1]) << 8 | u32::from(px[2]);
            let slot = (key.wrapping_mul(0x9E37_79B1) >> (32 - SLOTS_LOG2)) as usize;
            let sample = match recent[slot] {
                (k, sample) if k == key => sample,
                _ => {
                    let sample = self.decode_rgb8([px[0], px[1], px[2]]);
                    recent[slot] = (key, sample);
                    sample
                }
            };
            meters.push(sample.meters);
            off_path.push(sample.off_path);
        }
        Ok(DepthMap { width, height, meters, off_path })
    }

    /// Encodes a row-major depth image (metres) as tightly packed 8-bit RGB.
    pub fn encode_image(&self, meters: &[f32], width: u32, height: u32) -> Result<Vec<u8>, ProtocolError> {
        self.validate()?;
        check_buffer(meters.len(), width, height, 1)?;
        Ok(meters.iter().flat_map(|&d| self.encode_rgb8(d)).collect())
    }
}

impl DepthMap {
    /// Fraction of pixels decoded as infinitely far (white).
    pub fn sky_fraction(&self) -> f32 {
        let sky = self.meters.iter().filter(|d| d.is_infinite()).count();
        sky as f32 / self.meters.len().max(1) as f32
    }

    /// Mean distance of the image's colours from the walk.
    pub fn mean_off_path(&self) -> f32 {
        let sum: f64 = self.off_path.iter().map(|&v| f64::from(v)).sum();
        (sum / self.off_path.len().max(1) as f64) as f32
    }
}

/// The colour at position `f` ∈ [0, 1] along the walk (clamped).
pub fn walk(f: f32) -> [f32; 3] {
    walk_f64(f64::from(f))
}

fn walk_f64(f: f64) -> [f32; 3] {
    let s = if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) * SEGMENTS as f64 };
    let k = (s.floor() as usize).min(SEGMENTS - 1);
    let t = s - k as f64;
    let (a, b) = (CUBE_WALK[k], CUBE_WALK[k + 1]);
    std::array::from_fn(|i| (f64::from(a[i]) + t * f64::from(b[i] - a[i])) as f32)
}

/// Projects a colour onto the walk: its position and distance.
pub fn project(rgb: [f32; 3]) -> WalkPoint {
    let (segment, t, distance_sq) = project_segment(rgb);
    WalkPoint { position: (segment as f32 + t) / SEGMENTS as f32, distance: distance_sq.sqrt() }
}

/// Nearest segment, the clamped parameter on it, and the squared distance.
#[inline]
fn project_segment(p: [f32; 3]) -> (usize, f32, f32) {
    let mut best = (0, 0.0, f32::INFINITY);
    for k in 0..SEGMENTS {
        let (a, b) = (CUBE_WALK[k], CUBE_WALK[k + 1]);
        // Edges have unit length, so the projection parameter is a plain dot product.
        let e = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let t = ((p[0] - a[0]) * e[0] + (p[1] - a[1]) * e[1] + (p[2] - a[2]) * e[2]).clamp(0.0, 1.0);
        let mut dist_sq = 0.0;
        for i in 0..3 {
            let diff = p[i] - (a[i] + t * e[i]);
            dist_sq += diff * diff;
        }
        // Strict `<` keeps the earlier segment on ties, e.g. exactly at a vertex.
        if dist_sq < best.2 {
            best = (k, t, dist_sq);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PAPER: DepthCodec = DepthCodec::PAPER;
    /// One 8-bit step along the walk, in `f` units.
    const STEP: f64 = 1.0 / (SEGMENTS as f64 * 255.0);

    fn f64_of(meters: f32) -> f64 {
        PAPER.normalize_f64(meters)
    }

    #[test]
    fn paper_transform_matches_closed_form() {
        for d in [0.0f32, 0.3, 1.0, 4.0, 10.0, 100.0] {
            let closed = 1.0 - (1.0 + f64::from(d) / 10.0).powi(-2);
            // c = 10/3 is not exact in f32, hence 1e-7 rather than f64 precision.
            assert!((f64_of(d) - closed).abs() < 1e-7, "d = {d}");
        }
    }

    #[test]
    fn golden_vertex_depths() {
        // Reference values from hilbertmap 0.1.3.
        let expected = [0.801, 1.832, 3.229, 5.275, 8.708, 16.458];
        for (vertex, want) in CUBE_WALK[1..7].iter().zip(expected) {
            let got = PAPER.decode(*vertex);
            assert!((got.meters - want).abs() < 5e-4, "{vertex:?}: {} vs {want}", got.meters);
            assert_eq!(got.off_path, 0.0);
        }
        assert_eq!(PAPER.decode([0.0; 3]).meters, 0.0);
        assert_eq!(PAPER.decode([1.0; 3]).meters, f32::INFINITY);
        // 1 − f = 1/1785 at the last step: d = 10·(√1785 − 1).
        assert!((PAPER.far_limit_rgb8() - 10.0 * (1785f32.sqrt() - 1.0)).abs() < 0.01);
    }

    #[test]
    fn golden_encodings() {
        let cases: [(f32, [u8; 3]); 6] = [
            (0.5, [166, 0, 0]),
            (1.0, [255, 55, 0]),
            (2.0, [220, 255, 0]),
            (5.0, [0, 255, 227]),
            (10.0, [64, 0, 255]),
            (40.0, [255, 184, 255]),
        ];
        for (meters, rgb) in cases {
            assert_eq!(PAPER.encode_rgb8(meters), rgb, "{meters} m");
        }
        assert_eq!(PAPER.encode_rgb8(f32::INFINITY), [255, 255, 255]);
        assert_eq!(PAPER.encode_rgb8(0.0), [0, 0, 0]);
    }

    #[test]
    fn golden_8bit_round_trip() {
        let one = PAPER.decode_rgb8(PAPER.encode_rgb8(1.0)).meters;
        let ten = PAPER.decode_rgb8(PAPER.encode_rgb8(10.0)).meters;
        assert!((one - 1.0008).abs() < 1e-4, "{one}");
        assert!((ten - 10.006).abs() < 1e-3, "{ten}");
    }

    #[test]
    fn invalid_depths_encode_as_black() {
        assert_eq!(PAPER.encode_rgb8(-3.0), [0, 0, 0]);
        assert_eq!(PAPER.encode_rgb8(f32::NAN), [0, 0, 0]);
        assert_eq!(PAPER.encode_rgb8(f32::NEG_INFINITY), [0, 0, 0]);
    }

    #[test]
    fn parameters_are_validated() {
        assert!(DepthCodec::new(-4.0, 120.0).is_ok());
        assert!(DepthCodec::new(-1.0, 1.0).is_err());
        assert!(DepthCodec::new(-0.5, 1.0).is_err());
        assert!(DepthCodec::new(-3.0, 0.0).is_err());
        assert!(DepthCodec::new(f32::NAN, 1.0).is_err());
        let bad = DepthCodec { lambda: 2.0, c: 1.0 };
        assert!(matches!(bad.decode_image(&[0, 0, 0], 1, 1), Err(ProtocolError::InvalidParameter { .. })));
    }

    #[test]
    fn image_buffers_are_checked() {
        assert!(matches!(PAPER.decode_image(&[0; 5], 1, 2), Err(ProtocolError::BufferSize { expected: 6, .. })));
        assert!(matches!(PAPER.decode_image(&[], 0, 0), Err(ProtocolError::EmptyImage { .. })));
        assert!(matches!(PAPER.decode_image(&[0; 3], u32::MAX, u32::MAX), Err(ProtocolError::ImageTooLarge { .. })));
        let map = PAPER.decode_image(&[255, 55, 0, 255, 255, 255], 2, 1).unwrap();
        assert!((map.meters[0] - 1.0008).abs() < 1e-4);
        assert_eq!(map.sky_fraction(), 0.5);
    }

    #[test]
    fn off_path_measures_distance_from_walk() {
        // Grey (0.5, 0.5, 0.5) is 0.5·√2 from the nearest edges.
        let grey = PAPER.decode([0.5; 3]);
        assert!((grey.off_path - 0.5f32.sqrt()).abs() < 1e-6);
        // Red pushed 0.02 towards blue stays at red's depth, 0.02 off the path.
        let near_red = PAPER.decode([1.0, 0.0, 0.02]);
        assert!((near_red.meters - 0.801).abs() < 1e-3);
        assert!((near_red.off_path - 0.02).abs() < 1e-6);
    }

    #[test]
    fn range_tuned_codec_round_trips() {
        let outdoor = DepthCodec::new(-4.0, 120.0).unwrap();
        let mid = outdoor.denormalize(0.5);
        assert!((mid - 480.0 * (2f32.cbrt() - 1.0)).abs() < 1e-2, "{mid}");
        for d in [0.5f32, 10.0, 125.0, 1000.0] {
            let back = outdoor.decode(outdoor.encode(d)).meters;
            assert!((back - d).abs() <= 1e-4 * d, "{d} -> {back}");
        }
    }

    proptest! {
        /// The image decoder remembers colours it has seen: whatever the mix of repeated and
        /// colliding colours (a palette of 1 to 40,000), every pixel is what `decode_rgb8` gives.
        #[test]
        fn images_decode_pixel_by_pixel(palette in proptest::collection::vec(any::<[u8; 3]>(), 1..40_000), picks in proptest::collection::vec(any::<u16>(), 1..4_000)) {
            let rgb: Vec<u8> = picks.iter().chain(&picks).flat_map(|&i| palette[usize::from(i) % palette.len()]).collect();
            let map = PAPER.decode_image(&rgb, (rgb.len() / 3) as u32, 1).unwrap();
            for (i, px) in rgb.chunks_exact(3).enumerate() {
                let sample = PAPER.decode_rgb8([px[0], px[1], px[2]]);
                prop_assert_eq!(map.meters[i].to_bits(), sample.meters.to_bits());
                prop_assert_eq!(map.off_path[i].to_bits(), sample.off_path.to_bits());
            }
        }

        #[test]
        fn float_round_trip_is_exact(meters in 0.0f32..5000.0) {
            let rgb = PAPER.encode(meters);
            let sample = PAPER.decode(rgb);
            let f_back = f64_of(sample.meters);
            prop_assert!((f_back - f64_of(meters)).abs() < 2e-7, "f: {} vs {}", f_back, f64_of(meters));
            // Near white, the f32 colour channel (not the transform) limits depth precision.
            if meters <= 1000.0 {
                prop_assert!((sample.meters - meters).abs() <= 1e-4 * meters.max(0.01), "{} -> {}", meters, sample.meters);
            }
            prop_assert!(sample.off_path < 1e-6);
        }

        #[test]
        fn eight_bit_round_trip_is_within_one_step(meters in 0.0f32..5000.0) {
            let rgb8 = PAPER.encode_rgb8(meters);
            let sample = PAPER.decode_rgb8(rgb8);
            let f_true = f64_of(meters);
            let f_back = f64_of(sample.meters);
            // Rounding moves the colour by at most half a step along the walk.
            prop_assert!((f_back - f_true).abs() <= 0.5 * STEP + 1e-7, "{} m: f {} vs {}", meters, f_back, f_true);
            // The depth lies between the depths one step either side.
            let lo = PAPER.denormalize_f64((f_true - STEP).max(0.0));
            let hi = PAPER.denormalize_f64((f_true + STEP).min(1.0));
            prop_assert!(f64::from(sample.meters) >= lo - 1e-6 && f64::from(sample.meters) <= hi + 1e-6);
            // Only the moving channel is fractional, so 8-bit encodings sit on the path (up to f32 rounding).
            prop_assert!(sample.off_path < 1e-6, "{}", sample.off_path);
        }

        #[test]
        fn encoding_is_monotone_along_the_walk(a in 0.0f32..1000.0, b in 0.0f32..1000.0) {
            let (near, far) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(project(PAPER.encode(near)).position <= project(PAPER.encode(far)).position);
        }

        #[test]
        fn any_colour_decodes_to_a_valid_depth(r in 0.0f32..=1.0, g in 0.0f32..=1.0, b in 0.0f32..=1.0) {
            let sample = PAPER.decode([r, g, b]);
            prop_assert!(sample.meters >= 0.0 && !sample.meters.is_nan());
            // No colour in the cube is further from the walk than the cube's centre.
            prop_assert!(sample.off_path <= 0.5f32.sqrt() + 1e-6, "{}", sample.off_path);
            // Re-encoding the decoded depth lands on the colour's projection.
            let on_path = PAPER.encode(sample.meters);
            let projected = project([r, g, b]);
            prop_assert!((project(on_path).position - projected.position).abs() < 1e-4);
        }
    }
}
