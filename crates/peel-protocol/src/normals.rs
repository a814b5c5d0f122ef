//! Surface normal codec.
//!
//! **Convention.** Normals are unit vectors in the camera frame: +x to the right, +y up,
//! +z towards the viewer (out of the screen). Each component maps to a channel:
//!
//! ```text
//! R = (1 − x)/2      G = (1 + y)/2      B = (1 + z)/2
//! x = 1 − 2R         y = 2G − 1         z = 2B − 1      then renormalise
//! ```
//!
//! Note the flipped x: a surface facing left (−x) is pinkish red (255, 128, 128), one facing up
//! is light green (128, 255, 128), and one facing the camera is light blue/purple (128, 128, 255).
//! This matches the Vision Banana paper's descriptions and its project page's images.
//!
//! **Decode.** The raw vector's length is kept as `raw_length`: exact encodings of unit normals give
//! 1 (within 8-bit rounding, ±0.7 %), so its deviation from 1 flags off-manifold generator output.
//! Mid-grey (a zero raw vector, length < 1e-6) has no direction and decodes to `[0, 0, 0]`.
//! 8-bit quantisation costs at most ~0.4° of angle.

use crate::error::{ProtocolError, check_buffer};

/// Below this raw length a colour has no usable direction.
pub const MIN_RAW_LENGTH: f32 = 1e-6;

/// A decoded normal image, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalMap {
    pub width: u32,
    pub height: u32,
    /// Unit normals (or `[0, 0, 0]` where the colour has no direction).
    pub normals: Vec<[f32; 3]>,
    /// Length of each raw decoded vector before renormalising (1 for exact encodings).
    pub raw_length: Vec<f32>,
}

/// Colour of a normal, RGB in [0, 1]. The input is normalised first; a zero or non-finite
/// vector encodes as mid-grey.
pub fn encode(n: [f32; 3]) -> [f32; 3] {
    let n = normalize(n).unwrap_or([0.0; 3]);
    [(1.0 - n[0]) * 0.5, (1.0 + n[1]) * 0.5, (1.0 + n[2]) * 0.5].map(|v| v.clamp(0.0, 1.0))
}

/// Colour of a normal in 8 bits (rounded to nearest).
pub fn encode_rgb8(n: [f32; 3]) -> [u8; 3] {
    encode(n).map(|v| (v * 255.0).round() as u8)
}

/// Unit normal of a colour (RGB in [0, 1]); `[0, 0, 0]` for mid-grey.
pub fn decode(rgb: [f32; 3]) -> [f32; 3] {
    decode_with_length(rgb).0
}

/// Unit normal of an 8-bit colour.
pub fn decode_rgb8(rgb: [u8; 3]) -> [f32; 3] {
    decode(rgb.map(|v| f32::from(v) / 255.0))
}

/// Unit normal and the raw vector's length.
pub fn decode_with_length(rgb: [f32; 3]) -> ([f32; 3], f32) {
    let raw = [1.0 - 2.0 * rgb[0], 2.0 * rgb[1] - 1.0, 2.0 * rgb[2] - 1.0];
    let length = norm(raw);
    (normalize(raw).unwrap_or([0.0; 3]), length)
}

/// Decodes a tightly packed 8-bit RGB image.
pub fn decode_image(rgb8: &[u8], width: u32, height: u32) -> Result<NormalMap, ProtocolError> {
    let pixels = check_buffer(rgb8.len(), width, height, 3)?;
    let mut normals = Vec::with_capacity(pixels);
    let mut raw_length = Vec::with_capacity(pixels);
    for px in rgb8.chunks_exact(3) {
        let (n, length) = decode_with_length([px[0], px[1], px[2]].map(|v| f32::from(v) / 255.0));
        normals.push(n);
        raw_length.push(length);
    }
    Ok(NormalMap { width, height, normals, raw_length })
}

/// Encodes row-major normals (`xyz` interleaved, 3 floats per pixel) as 8-bit RGB.
pub fn encode_image(xyz: &[f32], width: u32, height: u32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(xyz.len(), width, height, 3)?;
    Ok(xyz.chunks_exact(3).flat_map(|n| encode_rgb8([n[0], n[1], n[2]])).collect())
}

fn norm(v: [f32; 3]) -> f32 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// `v / |v|`, or `None` when `v` is (nearly) zero or not finite.
pub(crate) fn normalize(v: [f32; 3]) -> Option<[f32; 3]> {
    let length = norm(v);
    (length.is_finite() && length >= MIN_RAW_LENGTH).then(|| v.map(|c| c / length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn angle_deg(a: [f32; 3], b: [f32; 3]) -> f32 {
        let dot = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]).clamp(-1.0, 1.0);
        dot.acos().to_degrees()
    }

    fn unit_vector() -> impl Strategy<Value = [f32; 3]> {
        (-1.0f32..1.0, -1.0f32..1.0, -1.0f32..1.0)
            .prop_filter_map("needs a direction", |(x, y, z)| normalize([x, y, z]))
    }

    #[test]
    fn convention_colours() {
        assert_eq!(encode_rgb8([-1.0, 0.0, 0.0]), [255, 128, 128]); // facing left: pinkish red
        assert_eq!(encode_rgb8([0.0, 1.0, 0.0]), [128, 255, 128]); // facing up: light green
        assert_eq!(encode_rgb8([0.0, 0.0, 1.0]), [128, 128, 255]); // facing the camera: light blue
        assert_eq!(encode_rgb8([1.0, 0.0, 0.0]), [0, 128, 128]); // facing right: teal
        assert_eq!(decode([0.0, 0.5, 0.5]), [1.0, 0.0, 0.0]);
        assert_eq!(decode([0.5, 0.5, 1.0]), [0.0, 0.0, 1.0]);
    }

    #[test]
    fn grey_has_no_direction() {
        let (n, length) = decode_with_length([0.5; 3]);
        assert_eq!((n, length), ([0.0; 3], 0.0));
        assert_eq!(encode([0.0; 3]), [0.5; 3]);
        assert_eq!(encode([f32::NAN, 0.0, 1.0]), [0.5; 3]);
    }

    #[test]
    fn encode_normalises_its_input() {
        assert_eq!(encode([0.0, 0.0, 7.0]), encode([0.0, 0.0, 1.0]));
    }

    #[test]
    fn image_buffers_are_checked() {
        assert!(matches!(decode_image(&[0; 4], 1, 1), Err(ProtocolError::BufferSize { .. })));
        assert!(matches!(encode_image(&[0.0; 3], 2, 1), Err(ProtocolError::BufferSize { .. })));
        let rgb = encode_image(&[0.0, 0.0, 1.0, -1.0, 0.0, 0.0], 2, 1).unwrap();
        assert_eq!(rgb, vec![128, 128, 255, 255, 128, 128]);
        let map = decode_image(&rgb, 2, 1).unwrap();
        assert!(angle_deg(map.normals[1], [-1.0, 0.0, 0.0]) < 0.5);
    }

    proptest! {
        #[test]
        fn float_round_trip(n in unit_vector()) {
            let (back, length) = decode_with_length(encode(n));
            prop_assert!(angle_deg(n, back) < 0.05, "{:?} -> {:?}", n, back);
            prop_assert!((length - 1.0).abs() < 1e-5);
        }

        #[test]
        fn eight_bit_round_trip_within_half_a_degree(n in unit_vector()) {
            let rgb8 = encode_rgb8(n);
            let back = decode_rgb8(rgb8);
            prop_assert!(angle_deg(n, back) < 0.5, "{:?} -> {:?} -> {:?}", n, rgb8, back);
            let (_, length) = decode_with_length(rgb8.map(|v| f32::from(v) / 255.0));
            prop_assert!((length - 1.0).abs() < 0.007, "raw length {}", length);
        }

        #[test]
        fn decoded_normals_are_unit_or_zero(r: u8, g: u8, b: u8) {
            let n = decode_rgb8([r, g, b]);
            let length = norm(n);
            prop_assert!(length == 0.0 || (length - 1.0).abs() < 1e-5);
        }
    }
}
