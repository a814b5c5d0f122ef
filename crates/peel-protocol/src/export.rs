//! File exports of decoded values: the bytes `peel decode` writes and the page offers for download.
//!
//! One implementation for both, fed by one decoder ([`crate::decode::decode_painting`]), so a file
//! from the command line and the same file from the page are byte for byte the same (the browser
//! test "One decode" checks it). Every function returns the whole file in memory (no IO here).
//!
//! | export | format |
//! |---|---|
//! | [`depth_png_mm`] | 16-bit grey PNG, millimetres; **0 = sky or unknown**; depths ≥ 65.535 m saturate at 65535 |
//! | [`depth_npy`] | float32 `.npy`, shape (H, W), metres; `inf` for sky |
//! | [`depth_pfm`] | greyscale PFM (float32, little-endian, rows bottom-up), metres; `inf` for sky |
//! | [`normals_npy`] | float32 `.npy`, shape (H, W, 3), unit vectors (+x right, +y up, +z towards the viewer) |
//! | [`label_png`] | grey PNG, one label per pixel: 0 = none, i = legend entry i (8-bit when every label is ≤ 255, else 16-bit) |
//! | [`legend_json`] | the label map's legend: task, size, and per entry its label, name, colour, pixels and mask file name |
//! | [`mask_png`] | 8-bit grey PNG per legend entry: 255 inside, 0 outside |
//! | [`depth_ply`] | binary little-endian PLY point cloud: one coloured vertex per pixel with finite depth |
//!
//! The point cloud uses a pinhole camera with square pixels, centred principal point and the
//! horizontal field of view the user gives ([`DEFAULT_FOV_DEG`] = 60° by default, since a single
//! photo does not say). Depth is z-depth (along the optical axis), as `peel-synth` renders it: pixel
//! (u, v) at depth d becomes `d · ((u + ½ − W/2)/f, −(v + ½ − H/2)/f, −1)` with `f = (W/2) / tan(fov/2)`,
//! in the normals' camera frame (+x right, +y up, the camera looking along −z).

use std::io::Cursor;

use image::{ImageBuffer, ImageFormat, Luma, Rgba};

use crate::decode::Segment;
use crate::error::{ProtocolError, check_buffer};

/// Horizontal field of view the point cloud assumes unless told otherwise, in degrees.
pub const DEFAULT_FOV_DEG: f32 = 60.0;

/// The millimetre value of sky and unknown depth in [`depth_png_mm`].
pub const MM_UNKNOWN: u16 = 0;

fn png_error(e: image::ImageError) -> ProtocolError {
    ProtocolError::Invalid(format!("PNG encoding failed: {e}"))
}

fn encode_png<P: image::PixelWithColorType>(width: u32, height: u32, data: Vec<P::Subpixel>) -> Result<Vec<u8>, ProtocolError>
where
    [P::Subpixel]: image::EncodableLayout,
{
    let buf = ImageBuffer::<P, Vec<P::Subpixel>>::from_raw(width, height, data)
        .ok_or_else(|| ProtocolError::Invalid("pixel buffer does not match its size".into()))?;
    let mut bytes = Vec::new();
    buf.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).map_err(png_error)?;
    Ok(bytes)
}

/// Depth in millimetres as stored by [`depth_png_mm`]: 0 for sky, non-finite or non-positive
/// depth, else `round(m · 1000)` clamped to 1…65535.
pub fn depth_mm(meters: f32) -> u16 {
    if meters.is_finite() && meters > 0.0 { (meters * 1000.0).round().clamp(1.0, 65535.0) as u16 } else { MM_UNKNOWN }
}

/// Depth (metres, `inf` = sky) as a 16-bit grey PNG in millimetres; 0 marks sky and unknown.
pub fn depth_png_mm(meters: &[f32], width: u32, height: u32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(meters.len(), width, height, 1)?;
    encode_png::<Luma<u16>>(width, height, meters.iter().map(|&m| depth_mm(m)).collect())
}

/// A little-endian float32 `.npy` (format 1.0, C order) of `shape`.
pub fn npy_f32(shape: &[usize], data: &[f32]) -> Result<Vec<u8>, ProtocolError> {
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(ProtocolError::SizeMismatch { what: "npy data", expected, actual: data.len() });
    }
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + header length (2) + header, padded with spaces and ended by a
    // newline to a multiple of 64 bytes, as numpy writes it.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let header_len = u16::try_from(header.len()).map_err(|_| ProtocolError::Invalid("npy header too long".into()))?;
    let mut bytes = Vec::with_capacity(10 + header.len() + 4 * data.len());
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    Ok(bytes)
}

/// Depth as float32 `.npy` of shape (H, W), metres, `inf` for sky.
pub fn depth_npy(meters: &[f32], width: u32, height: u32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(meters.len(), width, height, 1)?;
    npy_f32(&[height as usize, width as usize], meters)
}

/// Depth as a greyscale PFM: "Pf", size, scale −1 (little-endian), then rows from the bottom up.
pub fn depth_pfm(meters: &[f32], width: u32, height: u32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(meters.len(), width, height, 1)?;
    let mut bytes = format!("Pf\n{width} {height}\n-1.0\n").into_bytes();
    for row in meters.chunks_exact(width as usize).rev() {
        for v in row {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(bytes)
}

/// Normals (x, y, z per pixel, row-major) as float32 `.npy` of shape (H, W, 3).
pub fn normals_npy(xyz: &[f32], width: u32, height: u32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(xyz.len(), width, height, 3)?;
    npy_f32(&[height as usize, width as usize, 3], xyz)
}

/// A label map as a grey PNG, and its bit depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelPng {
    pub bytes: Vec<u8>,
    /// 8 or 16.
    pub bits: u8,
}

/// Labels (0 = none of the legend's entries, i = entry i; see [`crate::decode`]) as an 8-bit grey
/// PNG when every label is at most 255, else as a 16-bit grey PNG. The values are never changed.
pub fn label_png(labels: &[u16], width: u32, height: u32) -> Result<LabelPng, ProtocolError> {
    check_buffer(labels.len(), width, height, 1)?;
    if labels.iter().all(|&l| l <= 255) {
        let data: Vec<u8> = labels.iter().map(|&l| l as u8).collect();
        Ok(LabelPng { bytes: encode_png::<Luma<u8>>(width, height, data)?, bits: 8 })
    } else {
        Ok(LabelPng { bytes: encode_png::<Luma<u16>>(width, height, labels.to_vec())?, bits: 16 })
    }
}

/// What the legend's `label_map` field says about the label-map PNG.
pub const LABEL_MAP_NOTE: &str = "0 = none of the entries, i = entries[i - 1]";

/// The JSON legend of a label map painted for `task` ("semantic", "instance" or "referring"):
///
/// ```json
/// {
///   "task": "semantic",
///   "width": 451,
///   "height": 300,
///   "label_map": "0 = none of the entries, i = entries[i - 1]",
///   "entries": [
///     {
///       "label": 1,
///       "name": "cat",
///       "color": [
///         255,
///         165,
///         0
///       ],
///       "pixels": 61234,
///       "mask_file": "peel-semantic-mask-01-cat.png"
///     }
///   ]
/// }
/// ```
///
/// Entry `i` (1-based `label`) is `segments[i − 1]`; `mask_file` is the [`mask_download_name`] of
/// its [`mask_png`]. The text is laid out as JavaScript's `JSON.stringify(legend, null, 2)` lays
/// it out (two-space indent, no final newline), as the page wrote it before this function existed.
pub fn legend_json(task: &str, width: u32, height: u32, segments: &[Segment]) -> Vec<u8> {
    let mut out = String::from("{\n");
    out.push_str(&format!("  \"task\": {},\n", json_string(task)));
    out.push_str(&format!("  \"width\": {width},\n  \"height\": {height},\n"));
    out.push_str(&format!("  \"label_map\": {},\n", json_string(LABEL_MAP_NOTE)));
    if segments.is_empty() {
        out.push_str("  \"entries\": []\n}");
        return out.into_bytes();
    }
    out.push_str("  \"entries\": [\n");
    for (i, s) in segments.iter().enumerate() {
        let label = u16::try_from(i + 1).unwrap_or(u16::MAX);
        let [r, g, b] = s.color;
        out.push_str("    {\n");
        out.push_str(&format!("      \"label\": {label},\n"));
        out.push_str(&format!("      \"name\": {},\n", json_string(&s.name)));
        out.push_str(&format!("      \"color\": [\n        {r},\n        {g},\n        {b}\n      ],\n"));
        out.push_str(&format!("      \"pixels\": {},\n", s.pixels));
        out.push_str(&format!("      \"mask_file\": {}\n", json_string(&mask_download_name(task, label, &s.name))));
        out.push_str(if i + 1 == segments.len() { "    }\n" } else { "    },\n" });
    }
    out.push_str("  ]\n}");
    out.into_bytes()
}

/// A JSON string literal, escaped as `JSON.stringify` escapes it: `"` and `\\`, the short forms
/// `\b \f \n \r \t`, other control characters as `\u00xx`; everything else as is.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One legend entry's mask as an 8-bit grey PNG: 255 where `labels == label`, 0 elsewhere.
pub fn mask_png(labels: &[u16], width: u32, height: u32, label: u16) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(labels.len(), width, height, 1)?;
    encode_png::<Luma<u8>>(width, height, labels.iter().map(|&l| if l == label { 255 } else { 0 }).collect())
}

/// A file-name-safe form of a legend entry's name: lower-case ASCII letters and digits, runs of
/// anything else as one `-`, at most 40 characters; `"entry"` if nothing is left.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() { "entry".into() } else { trimmed.into() }
}

/// The name of legend entry `label`'s mask file: `mask-01-the-cat.png`.
pub fn mask_file_name(label: u16, name: &str) -> String {
    format!("mask-{label:02}-{}.png", slug(name))
}

/// The file name of legend entry `label`'s mask, as the page downloads it, the legend's
/// `mask_file` names it and `peel decode --masks DIR` writes it: `peel-semantic-mask-01-the-cat.png`.
pub fn mask_download_name(task: &str, label: u16, name: &str) -> String {
    format!("peel-{task}-{}", mask_file_name(label, name))
}

/// An RGB image (tightly packed) as PNG: the photo effects' download.
pub fn rgb_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(rgb.len(), width, height, 3)?;
    encode_png::<image::Rgb<u8>>(width, height, rgb.to_vec())
}

/// Background removal: the photo (`rgb`, tightly packed) cut out along legend entry `label` as an
/// RGBA PNG, opaque where `labels == label` and fully transparent (and black) elsewhere.
pub fn cutout_png(rgb: &[u8], labels: &[u16], width: u32, height: u32, label: u16) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(rgb.len(), width, height, 3)?;
    check_buffer(labels.len(), width, height, 1)?;
    let rgba = rgb.chunks_exact(3).zip(labels).flat_map(|(p, &l)| if l == label { [p[0], p[1], p[2], 255] } else { [0; 4] }).collect();
    encode_png::<Rgba<u8>>(width, height, rgba)
}

/// The name of legend entry `label`'s cut-out file: `cutout-01-the-cat.png`.
pub fn cutout_file_name(label: u16, name: &str) -> String {
    format!("cutout-{label:02}-{}.png", slug(name))
}

/// The file name of legend entry `label`'s cut-out as the page downloads it: `peel-semantic-cutout-01-the-cat.png`.
pub fn cutout_download_name(task: &str, label: u16, name: &str) -> String {
    format!("peel-{task}-{}", cutout_file_name(label, name))
}

/// Pinhole intrinsics for a `width`×`height` image with horizontal field of view `fov_deg`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pinhole {
    pub fx: f32,
    pub fy: f32,
    pub cx: f32,
    pub cy: f32,
}

impl Pinhole {
    /// Square pixels, principal point at the centre; `fov_deg` must lie in (0°, 180°).
    pub fn from_fov(width: u32, height: u32, fov_deg: f32) -> Result<Self, ProtocolError> {
        if !(fov_deg.is_finite() && fov_deg > 0.0 && fov_deg < 180.0) {
            return Err(ProtocolError::InvalidParameter {
                name: "field of view",
                value: fov_deg.to_string(),
                reason: "must be between 0 and 180 degrees",
            });
        }
        // `libm::tanf`, not `f32::tan`: the same bits natively as in the page's wasm.
        let fx = width as f32 * 0.5 / libm::tanf(fov_deg.to_radians() * 0.5);
        Ok(Self { fx, fy: fx, cx: width as f32 * 0.5, cy: height as f32 * 0.5 })
    }

    /// The camera-frame point of pixel (u, v) at z-depth `d` (+x right, +y up, looking along −z).
    pub fn point(&self, u: u32, v: u32, d: f32) -> [f32; 3] {
        [d * (u as f32 + 0.5 - self.cx) / self.fx, -d * (v as f32 + 0.5 - self.cy) / self.fy, -d]
    }
}

/// Whether a depth becomes a point in [`depth_ply`] (finite and positive).
pub fn has_point(meters: f32) -> bool {
    meters.is_finite() && meters > 0.0
}

/// A coloured point cloud as binary little-endian PLY: one vertex (float x, y, z in metres;
/// uchar red, green, blue) per pixel with finite positive depth, in raster order. `rgb` is the
/// photo at the depth map's size (tightly packed RGB). Returns the file and its vertex count.
pub fn depth_ply(meters: &[f32], rgb: &[u8], width: u32, height: u32, fov_deg: f32) -> Result<(Vec<u8>, usize), ProtocolError> {
    check_buffer(meters.len(), width, height, 1)?;
    check_buffer(rgb.len(), width, height, 3)?;
    let camera = Pinhole::from_fov(width, height, fov_deg)?;
    let count = meters.iter().filter(|&&m| has_point(m)).count();
    let header = format!(
        "ply\nformat binary_little_endian 1.0\ncomment Peel point cloud: metric depth, pinhole camera, horizontal fov {fov_deg} deg\n\
         comment camera frame: +x right, +y up, camera looking along -z; metres\n\
         element vertex {count}\nproperty float x\nproperty float y\nproperty float z\n\
         property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    );
    let mut bytes = Vec::with_capacity(header.len() + 15 * count);
    bytes.extend_from_slice(header.as_bytes());
    for (p, &d) in meters.iter().enumerate() {
        if !has_point(d) {
            continue;
        }
        let (u, v) = ((p % width as usize) as u32, (p / width as usize) as u32);
        for c in camera.point(u, v, d) {
            bytes.extend_from_slice(&c.to_le_bytes());
        }
        bytes.extend_from_slice(&rgb[3 * p..3 * p + 3]);
    }
    Ok((bytes, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};
    use ndarray_npy::ReadNpyExt;

    fn decode_png(bytes: &[u8]) -> image::DynamicImage {
        image::load_from_memory_with_format(bytes, ImageFormat::Png).expect("a readable PNG")
    }

    #[test]
    fn depth_png_holds_millimetres_and_zero_for_sky() {
        let meters = [0.25f32, 1.2345, f32::INFINITY, 70.0, -1.0, f32::NAN];
        let img = decode_png(&depth_png_mm(&meters, 3, 2).unwrap());
        let image::DynamicImage::ImageLuma16(buf) = img else { panic!("expected 16-bit grey, got {:?}", img.color()) };
        assert_eq!(buf.dimensions(), (3, 2));
        assert_eq!(buf.as_raw(), &vec![250, 1235, 0, 65535, 0, 0]);
    }

    #[test]
    fn depth_npy_parses_back_with_ndarray_npy() {
        let meters: Vec<f32> = (0..12).map(|i| if i == 5 { f32::INFINITY } else { 0.5 + i as f32 * 0.75 }).collect();
        let bytes = depth_npy(&meters, 4, 3).unwrap();
        assert_eq!((bytes.len() - 4 * 12) % 64, 0, "header padded to 64 bytes");
        let a = Array2::<f32>::read_npy(bytes.as_slice()).unwrap();
        assert_eq!(a.dim(), (3, 4));
        assert_eq!(a[[1, 1]], f32::INFINITY);
        assert_eq!(a[[2, 3]], meters[11]);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), meters);
    }

    #[test]
    fn normals_npy_has_shape_h_w_3() {
        let xyz: Vec<f32> = (0..2 * 5 * 3).map(|i| i as f32 / 7.0 - 1.0).collect();
        let a = Array3::<f32>::read_npy(normals_npy(&xyz, 5, 2).unwrap().as_slice()).unwrap();
        assert_eq!(a.dim(), (2, 5, 3));
        assert_eq!(a[[1, 4, 2]], xyz[29]);
        assert_eq!(a[[0, 1, 0]], xyz[3]);
        assert!(normals_npy(&xyz[1..], 5, 2).is_err(), "a short buffer is refused");
    }

    #[test]
    fn npy_of_one_dimension_uses_a_tuple_with_a_comma() {
        let a = ndarray::Array1::<f32>::read_npy(npy_f32(&[3], &[1.0, 2.0, 3.0]).unwrap().as_slice()).unwrap();
        assert_eq!(a.to_vec(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn pfm_rows_run_bottom_up() {
        let bytes = depth_pfm(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2).unwrap();
        let header = b"Pf\n3 2\n-1.0\n";
        assert_eq!(&bytes[..header.len()], header);
        let values: Vec<f32> =
            bytes[header.len()..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert_eq!(values, vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn label_png_is_8_bit_when_it_fits_and_16_bit_otherwise() {
        let labels = [0u16, 1, 2, 255];
        let small = label_png(&labels, 2, 2).unwrap();
        assert_eq!(small.bits, 8);
        assert_eq!(decode_png(&small.bytes).to_luma8().into_raw(), vec![0, 1, 2, 255]);

        let big = [0u16, 300, 2, 7];
        let wide = label_png(&big, 2, 2).unwrap();
        assert_eq!(wide.bits, 16);
        let image::DynamicImage::ImageLuma16(buf) = decode_png(&wide.bytes) else { panic!("expected 16-bit") };
        assert_eq!(buf.into_raw(), big.to_vec());
    }

    #[test]
    fn legend_json_is_laid_out_as_json_stringify_with_two_spaces() {
        let segments = [
            Segment { name: "cat".into(), color: [255, 165, 0], pixels: 12 },
            Segment { name: "exit \"sign\"\\\n\u{1}é".into(), color: [0, 0, 255], pixels: 0 },
        ];
        let text = String::from_utf8(legend_json("semantic", 4, 3, &segments)).unwrap();
        let expected = r#"{
  "task": "semantic",
  "width": 4,
  "height": 3,
  "label_map": "0 = none of the entries, i = entries[i - 1]",
  "entries": [
    {
      "label": 1,
      "name": "cat",
      "color": [
        255,
        165,
        0
      ],
      "pixels": 12,
      "mask_file": "peel-semantic-mask-01-cat.png"
    },
    {
      "label": 2,
      "name": "exit \"sign\"\\\n\u0001é",
      "color": [
        0,
        0,
        255
      ],
      "pixels": 0,
      "mask_file": "peel-semantic-mask-02-exit-sign.png"
    }
  ]
}"#;
        assert_eq!(text, expected);
        assert_eq!(
            String::from_utf8(legend_json("instance", 1, 1, &[])).unwrap(),
            "{\n  \"task\": \"instance\",\n  \"width\": 1,\n  \"height\": 1,\n  \"label_map\": \"0 = none of the entries, i = entries[i - 1]\",\n  \"entries\": []\n}"
        );
    }

    #[test]
    fn mask_png_marks_one_label() {
        let labels = [0u16, 2, 1, 2, 2, 0];
        let mask = decode_png(&mask_png(&labels, 3, 2, 2).unwrap()).to_luma8();
        assert_eq!(mask.dimensions(), (3, 2));
        assert_eq!(mask.into_raw(), vec![0, 255, 0, 255, 255, 0]);
    }

    #[test]
    fn cutout_keeps_the_photo_inside_one_label_only() {
        let rgb = [10u8, 20, 30, 40, 50, 60, 70, 80, 90];
        let labels = [1u16, 2, 1];
        let cut = decode_png(&cutout_png(&rgb, &labels, 3, 1, 1).unwrap()).to_rgba8();
        assert_eq!(cut.dimensions(), (3, 1));
        assert_eq!(cut.into_raw(), vec![10, 20, 30, 255, 0, 0, 0, 0, 70, 80, 90, 255]);
        assert!(cutout_png(&rgb[..6], &labels, 3, 1, 1).is_err(), "a short photo buffer is refused");
        assert_eq!(cutout_file_name(2, "the dog"), "cutout-02-the-dog.png");
        assert_eq!(cutout_download_name("referring", 2, "the dog"), "peel-referring-cutout-02-the-dog.png");
    }

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("The cat on the left"), "the-cat-on-the-left");
        assert_eq!(slug("  ../../etc/passwd "), "etc-passwd");
        assert_eq!(slug("日本"), "entry");
        assert_eq!(mask_file_name(3, "person 2"), "mask-03-person-2.png");
        assert_eq!(mask_download_name("instance", 3, "person 2"), "peel-instance-mask-03-person-2.png");
        assert!(slug(&"a".repeat(100)).len() <= 40);
    }

    /// Parses a binary PLY written by [`depth_ply`]: header lines and the vertices.
    fn parse_ply(bytes: &[u8]) -> (Vec<String>, Vec<([f32; 3], [u8; 3])>) {
        let end = b"end_header\n";
        let at = bytes.windows(end.len()).position(|w| w == end).expect("end_header") + end.len();
        let header: Vec<String> = std::str::from_utf8(&bytes[..at]).unwrap().lines().map(String::from).collect();
        let count: usize = header.iter().find_map(|l| l.strip_prefix("element vertex ")).unwrap().parse().unwrap();
        let body = &bytes[at..];
        assert_eq!(body.len(), 15 * count, "15 bytes per vertex");
        let f = |c: &[u8]| f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let vertices = body.chunks_exact(15).map(|v| ([f(&v[0..4]), f(&v[4..8]), f(&v[8..12])], [v[12], v[13], v[14]])).collect();
        (header, vertices)
    }

    #[test]
    fn ply_places_pixels_by_the_field_of_view() {
        // 4×2 image, 90° horizontal fov: f = 2 / tan 45° = 2, centre (2, 1).
        let mut meters = vec![2.0f32; 8];
        meters[1] = f32::INFINITY; // sky: no point
        meters[6] = 4.0;
        let rgb: Vec<u8> = (0..24).collect();
        let (bytes, count) = depth_ply(&meters, &rgb, 4, 2, 90.0).unwrap();
        let (header, vertices) = parse_ply(&bytes);
        assert_eq!(header[0], "ply");
        assert_eq!(header[1], "format binary_little_endian 1.0");
        assert_eq!((count, vertices.len()), (7, 7));
        // Pixel (0, 0) at 2 m: x = 2 (0.5 − 2)/2 = −1.5, y = −2 (0.5 − 1)/2 = 0.5, z = −2.
        assert_eq!(vertices[0], ([-1.5, 0.5, -2.0], [0, 1, 2]));
        // Pixel (2, 1) is vertex 5 (pixel 1 was skipped): at 4 m, x = 4 (2.5 − 2)/2 = 1, y = −4 (1.5 − 1)/2 = −1.
        assert_eq!(vertices[5], ([1.0, -1.0, -4.0], [18, 19, 20]));
        // The default field of view is accepted; nonsense is refused.
        assert!(depth_ply(&meters, &rgb, 4, 2, DEFAULT_FOV_DEG).is_ok());
        for bad in [0.0, 180.0, -5.0, f32::NAN] {
            assert!(depth_ply(&meters, &rgb, 4, 2, bad).is_err(), "fov {bad} should be refused");
        }
        assert!(depth_ply(&meters, &rgb[3..], 4, 2, 60.0).is_err(), "colours must match the depth map");
    }

    #[test]
    fn ply_of_a_synthetic_plane_keeps_its_depth() {
        // A fronto-parallel wall 3 m away: every vertex has z = −3, and the corners span the fov.
        let (w, h) = (64u32, 48u32);
        let meters = vec![3.0f32; (w * h) as usize];
        let rgb = vec![200u8; (w * h * 3) as usize];
        let (bytes, count) = depth_ply(&meters, &rgb, w, h, 60.0).unwrap();
        let (_, vertices) = parse_ply(&bytes);
        assert_eq!(count, (w * h) as usize);
        assert!(vertices.iter().all(|(p, c)| p[2] == -3.0 && *c == [200, 200, 200]));
        // Left edge of pixel 0 would be at x = −3 tan 30°; its centre is half a pixel inside.
        let half_width = 3.0 * 30f32.to_radians().tan();
        let pixel = 2.0 * half_width / w as f32;
        assert!((vertices[0].0[0] - (-half_width + pixel / 2.0)).abs() < 1e-5, "{:?}", vertices[0]);
    }
}
