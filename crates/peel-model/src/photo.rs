//! Photos from outside bytes, as the web worker and `peel run` read them: the format sniffed
//! from the content, the size checked against [`PhotoLimits`] before any pixel is decoded, and
//! the EXIF orientation applied, so the painting lines up with the photo as a browser shows it.
//!
//! Every failure is a [`PhotoError`] whose message is one line that says what is wrong (not an
//! image, an unsupported format, too large with the limit, truncated or corrupt).

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, RgbImage};

/// Formats this build decodes (the `image` features enabled in the workspace).
pub const READABLE: &str = "PNG, JPEG, WebP, GIF or BMP";

/// How large a photo may be. The model runs at 256 px, so the limits only bound memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Most pixels (width × height) accepted.
    pub max_pixels: u64,
    /// Longest side accepted.
    pub max_side: u32,
    /// Most bytes the decoder may allocate (a 16-bit RGBA image needs 8 bytes a pixel).
    pub max_alloc: u64,
}

impl Default for PhotoLimits {
    /// 64 megapixels (a 50 MP phone panorama fits), 30,000 px a side, 1 GiB of decoder memory.
    fn default() -> Self {
        Self { max_pixels: 64_000_000, max_side: 30_000, max_alloc: 1 << 30 }
    }
}

/// Why a photo could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is empty (0 bytes)")]
    EmptyFile,
    #[error("not an image ({what}); Peel reads {READABLE}")]
    NotAnImage { what: String },
    #[error("{format} images are not supported; Peel reads {READABLE}")]
    Unsupported { format: String },
    #[error("the image claims {width}×{height} pixels: an image needs at least 1×1")]
    NoPixels { width: u32, height: u32 },
    #[error(
        "the image is too large: {width}×{height} ({megapixels:.1} megapixels); the limit is {limit_mp} megapixels and {max_side} pixels a side"
    )]
    TooLarge { width: u32, height: u32, megapixels: f64, limit_mp: f64, max_side: u32 },
    #[error("the {format} image is truncated or corrupt: {detail}")]
    Corrupt { format: String, detail: String },
}

/// A short name of what non-image bytes look like, for the message.
fn describe_non_image(bytes: &[u8]) -> String {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.contains("<svg") || (head.starts_with("<?xml") && head.contains("svg")) {
        "an SVG drawing".into()
    } else if head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<body") {
        "an HTML page".into()
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = String::from_utf8_lossy(&bytes[8..12]).to_string();
        match brand.as_str() {
            "avif" | "avis" => "AVIF".into(),
            "heic" | "heix" | "hevc" | "mif1" | "msf1" => "HEIC".into(),
            _ => format!("an ISO media file (brand {brand:?})"),
        }
    } else if std::str::from_utf8(bytes).is_ok_and(|t| t.chars().all(|c| !c.is_control() || c.is_whitespace())) {
        "a text file".into()
    } else {
        format!("unrecognised content starting {}", hex(&bytes[..bytes.len().min(8)]))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn format_name(format: ImageFormat) -> String {
    match format {
        ImageFormat::Jpeg => "JPEG".into(),
        ImageFormat::Png => "PNG".into(),
        ImageFormat::WebP => "WebP".into(),
        ImageFormat::Gif => "GIF".into(),
        ImageFormat::Bmp => "BMP".into(),
        ImageFormat::Tiff => "TIFF".into(),
        ImageFormat::Avif => "AVIF".into(),
        other => other.extensions_str().first().map_or_else(|| format!("{other:?}"), |e| e.to_ascii_uppercase()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Maps a decoder error to a message about `format`.
fn decode_error(format: ImageFormat, err: ImageError, limits: &PhotoLimits) -> PhotoError {
    let name = format_name(format);
    match err {
        ImageError::Unsupported(e) => match e.kind() {
            image::error::UnsupportedErrorKind::Format(_) => PhotoError::Unsupported { format: name },
            _ => PhotoError::Unsupported { format: format!("{name} ({})", one_line(&e.to_string())) },
        },
        ImageError::Limits(_) => PhotoError::Corrupt {
            format: name,
            detail: format!("decoding it would need more than {} MiB of memory", limits.max_alloc >> 20),
        },
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Corrupt { format: name, detail: "the file ends early".into() }
        }
        other => PhotoError::Corrupt { format: name, detail: one_line(&other.to_string()) },
    }
}

/// The size a PNG or BMP states at a fixed place in its header, checked before any decoder runs:
/// a header-only file claiming 100000×100000 is "too large", not merely "truncated", and on
/// wasm32 the BMP decoder's own 32-bit size check would otherwise answer first, with an
/// "unsupported" message.
fn header_size(format: ImageFormat, bytes: &[u8]) -> Option<(u32, u32)> {
    let field = |at: usize| -> Option<[u8; 4]> { bytes.get(at..at + 4)?.try_into().ok() };
    match format {
        ImageFormat::Png if bytes.get(12..16) == Some(b"IHDR") => {
            Some((u32::from_be_bytes(field(16)?), u32::from_be_bytes(field(20)?)))
        }
        ImageFormat::Bmp => match u32::from_le_bytes(field(14)?) {
            // BITMAPCOREHEADER: 16-bit sides.
            12 => {
                let [w0, w1, h0, h1] = field(18)?;
                Some((u32::from(u16::from_le_bytes([w0, w1])), u32::from(u16::from_le_bytes([h0, h1]))))
            }
            // Later headers: signed 32-bit sides (a negative height means top-down rows).
            _ => Some((i32::from_le_bytes(field(18)?).unsigned_abs(), i32::from_le_bytes(field(22)?).unsigned_abs())),
        },
        _ => None,
    }
}

/// A JPEG whose frame samples some colour plane more finely than its first, described for
/// [`PhotoError::Unsupported`]. zune-jpeg (behind `image`) sizes its upsampling buffer by the
/// first plane and panics on such a file (found by fuzzing `photo`): legal, but no camera or
/// encoder writes one. The worker hands unsupported files to the browser's own decoder.
fn jpeg_sampling_unsupported(bytes: &[u8]) -> Option<String> {
    let mut at = 2; // after SOI
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None; // not at a marker: the decoder will say what is wrong
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            at += 2; // no length
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let segment = bytes.get(at + 4..at + 2 + length.max(2))?;
        let is_frame = (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
        if is_frame {
            // precision, height, width, component count, then (id, h << 4 | v, table) each.
            let planes: Vec<(u8, u8)> = segment.get(6..)?.chunks_exact(3).take(usize::from(*segment.get(5)?)).map(|c| (c[1] >> 4, c[1] & 15)).collect();
            let &(h0, v0) = planes.first()?;
            return planes.iter().enumerate().skip(1).find(|&(_, &(h, v))| h > h0 || v > v0).map(|(i, &(h, v))| {
                format!("JPEG (colour plane {} sampled {h}×{v}, more finely than the first, {h0}×{v0})", i + 1)
            });
        }
        if marker == 0xDA || marker == 0xD9 {
            return None; // scan or end before a frame header
        }
        at += 2 + length;
    }
    None
}

/// Checks a size against the limits before decoding.
pub fn check_size(width: u32, height: u32, limits: &PhotoLimits) -> Result<(), PhotoError> {
    if width == 0 || height == 0 {
        return Err(PhotoError::NoPixels { width, height });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width.max(height) > limits.max_side {
        return Err(PhotoError::TooLarge {
            width,
            height,
            megapixels: pixels as f64 / 1e6,
            limit_mp: limits.max_pixels as f64 / 1e6,
            max_side: limits.max_side,
        });
    }
    Ok(())
}

/// Decodes a photo file's bytes: format by content, size checked first, EXIF orientation applied.
pub fn decode(bytes: &[u8], limits: &PhotoLimits) -> Result<DynamicImage, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::EmptyFile);
    }
    let format = image::guess_format(bytes).map_err(|_| match describe_non_image(bytes) {
        what if what == "AVIF" || what == "HEIC" => PhotoError::Unsupported { format: what },
        what => PhotoError::NotAnImage { what },
    })?;
    if let Some((width, height)) = header_size(format, bytes) {
        check_size(width, height, limits)?;
    }
    if let Some(format) = (format == ImageFormat::Jpeg).then(|| jpeg_sampling_unsupported(bytes)).flatten() {
        return Err(PhotoError::Unsupported { format });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);
    contain_decoder_panic(format, || {
        let mut decoder = reader.into_decoder().map_err(|e| decode_error(format, e, limits))?;
        let (width, height) = decoder.dimensions();
        check_size(width, height, limits)?;
        // Unreadable or out-of-range EXIF means no rotation, as in browsers.
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let mut photo = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(format, e, limits))?;
        photo.apply_orientation(orientation);
        Ok(photo)
    })
}

/// Runs `image`'s decoders with a panic turned into [`PhotoError::Corrupt`]: zune-jpeg (the JPEG
/// decoder behind `image`) still panics on some malformed files, in its upsamplers' length
/// assertions (found here by fuzzing `photo`; upstream: zune-image issues 172, 236 and 281).
/// The panic is caught and kept off stderr, so `peel run` prints its one line. On wasm32 a panic
/// aborts instead, and the page restarts its worker (docs/RELIABILITY.md §6).
#[cfg(not(target_arch = "wasm32"))]
fn contain_decoder_panic<T>(format: ImageFormat, decode: impl FnOnce() -> Result<T, PhotoError>) -> Result<T, PhotoError> {
    use std::cell::Cell;
    use std::panic::{self, AssertUnwindSafe};
    thread_local! {
        static DECODING: Cell<bool> = const { Cell::new(false) };
    }
    static QUIET_WHILE_DECODING: std::sync::Once = std::sync::Once::new();
    // Wraps whatever hook is set (the default one, or a fuzzer's that aborts) once, for good.
    QUIET_WHILE_DECODING.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !DECODING.with(Cell::get) {
                previous(info)
            }
        }))
    });
    DECODING.with(|d| d.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(decode));
    DECODING.with(|d| d.set(false));
    result.unwrap_or_else(|panic| {
        let why = panic.downcast_ref::<&str>().copied().or(panic.downcast_ref::<String>().map(String::as_str)).unwrap_or("a panic");
        Err(PhotoError::Corrupt { format: format_name(format), detail: format!("its decoder failed ({})", one_line(why)) })
    })
}

#[cfg(target_arch = "wasm32")]
fn contain_decoder_panic<T>(_format: ImageFormat, decode: impl FnOnce() -> Result<T, PhotoError>) -> Result<T, PhotoError> {
    decode()
}

/// [`decode`], as 8-bit RGB (alpha dropped, 16-bit scaled, grey expanded).
pub fn decode_rgb(bytes: &[u8], limits: &PhotoLimits) -> Result<RgbImage, PhotoError> {
    decode(bytes, limits).map(|photo| photo.to_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 7]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out).write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8).unwrap();
        out
    }

    #[test]
    fn a_jpeg_with_a_colour_plane_finer_than_the_first_is_unsupported_not_a_panic() {
        // 304 bytes from the `photo` fuzz target: a progressive JPEG whose second plane is 2×2
        // and first 1×1, on which zune-jpeg 0.5.15's upsamplers assert (AVX2 and scalar).
        let bytes = include_bytes!("../tests/fixtures/fuzz-photo-upsampler-panic.jpg");
        let err = decode(bytes, &PhotoLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("JPEG (colour plane 2 sampled 2×2, more finely than the first, 1×1) images are not supported; Peel reads {READABLE}")
        );
        // Ordinary subsampling (luma 2×2, chroma 1×1) decodes.
        let photo = RgbImage::from_fn(33, 17, |x, y| Rgb([(x * 7) as u8, (y * 13) as u8, 90]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&photo).unwrap();
        assert_eq!(jpeg_sampling_unsupported(&jpeg), None);
        assert_eq!(decode_rgb(&jpeg, &PhotoLimits::default()).unwrap().dimensions(), (33, 17));
        // Cut anywhere, the check does not panic, and refuses only once the frame header is whole.
        let whole = jpeg_sampling_unsupported(bytes);
        for cut in 0..bytes.len() {
            let found = jpeg_sampling_unsupported(&bytes[..cut]);
            assert!(found.is_none() || found == whole, "cut at {cut}: {found:?}");
            assert_eq!(found.is_some(), cut >= 177, "cut at {cut}");
        }
    }

    #[test]
    fn a_decoder_panic_becomes_a_one_line_corrupt_error() {
        let err = contain_decoder_panic::<()>(ImageFormat::Jpeg, || panic!("assertion failed: a <= b\nmore")).unwrap_err();
        assert_eq!(err.to_string(), "the JPEG image is truncated or corrupt: its decoder failed (assertion failed: a <= b more)");
        let err = contain_decoder_panic::<()>(ImageFormat::Png, || std::panic::panic_any(7u8)).unwrap_err();
        assert!(err.to_string().ends_with("its decoder failed (a panic)"), "{err}");
        assert_eq!(contain_decoder_panic(ImageFormat::Png, || Ok(3)), Ok(3));
        // Panics outside a decode still unwind as before.
        assert!(std::panic::catch_unwind(|| panic!("outside")).is_err());
    }

    #[test]
    fn a_bmp_header_claiming_too_many_pixels_is_too_large_before_decoding() {
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]); // file size, reserved, data offset
        bmp.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
        bmp.extend_from_slice(&50_000i32.to_le_bytes());
        bmp.extend_from_slice(&(-50_000i32).to_le_bytes()); // top-down
        bmp.extend_from_slice(&[1, 0, 24, 0]);
        let err = decode(&bmp, &PhotoLimits::default()).unwrap_err();
        assert!(matches!(err, PhotoError::TooLarge { width: 50_000, height: 50_000, .. }), "{err}");
    }

    /// A PNG whose IHDR claims `width`×`height` (CRC fixed up), with no image data.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        out.extend_from_slice(&13u32.to_be_bytes());
        out.extend_from_slice(&ihdr);
        out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn reads_a_png_and_keeps_its_size() {
        let photo = decode_rgb(&png(5, 3), &PhotoLimits::default()).unwrap();
        assert_eq!(photo.dimensions(), (5, 3));
        assert_eq!(photo.get_pixel(4, 2), &Rgb([4, 2, 7]));
    }

    #[test]
    fn refuses_what_is_not_an_image_with_one_line() {
        let limits = PhotoLimits::default();
        assert_eq!(decode(b"", &limits).unwrap_err(), PhotoError::EmptyFile);
        let svg = decode(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", &limits).unwrap_err().to_string();
        assert!(svg.contains("SVG") && !svg.contains('\n'), "{svg}");
        let html = decode(b"<!DOCTYPE html><html></html>", &limits).unwrap_err().to_string();
        assert!(html.contains("HTML page"), "{html}");
        assert!(decode(b"hello", &limits).unwrap_err().to_string().contains("text file"));
        assert!(decode(&[0xde, 0xad, 0xbe, 0xef, 0, 1], &limits).unwrap_err().to_string().contains("de ad be ef"));
    }

    #[test]
    fn size_limits_are_checked_before_decoding_and_named() {
        let limits = PhotoLimits::default();
        let err = decode(&png_header(100_000, 100_000), &limits).unwrap_err();
        assert!(matches!(err, PhotoError::TooLarge { width: 100_000, height: 100_000, .. }), "{err:?}");
        assert!(err.to_string().contains("the limit is 64 megapixels"), "{err}");
        // 2^31 pixels: within 30,000 a side? No: 65536 × 32768.
        assert!(matches!(decode(&png_header(65_536, 32_768), &limits).unwrap_err(), PhotoError::TooLarge { .. }));
        let small = PhotoLimits { max_pixels: 10, ..limits };
        assert!(matches!(decode(&png(4, 3), &small).unwrap_err(), PhotoError::TooLarge { .. }));
        assert_eq!(check_size(0, 5, &limits).unwrap_err(), PhotoError::NoPixels { width: 0, height: 5 });
        assert!(check_size(6000, 4000, &limits).is_ok());
    }

    #[test]
    fn truncated_files_are_corrupt_not_panics() {
        let full = png(40, 30);
        for cut in [8, 20, 33, 40, full.len() / 2, full.len() - 12] {
            match decode(&full[..cut], &PhotoLimits::default()) {
                Err(PhotoError::Corrupt { format, .. }) => assert_eq!(format, "PNG"),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A 2×1 JPEG-free check: apply_orientation through the same path on a PNG with an eXIf chunk.
        let img = RgbImage::from_fn(2, 1, |x, _| if x == 0 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) });
        let mut bytes = Vec::new();
        let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
        // EXIF (big-endian TIFF) with one IFD entry: Orientation (0x0112) = 6, "rotate 90° clockwise to view".
        let exif: Vec<u8> = [
            &b"MM\0\x2a\0\0\0\x08"[..],
            &[0, 1],
            &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0],
            &[0, 0, 0, 0],
        ]
        .concat();
        encoder.set_exif_metadata(exif).unwrap();
        encoder.write_image(img.as_raw(), 2, 1, image::ExtendedColorType::Rgb8).unwrap();
        let photo = decode_rgb(&bytes, &PhotoLimits::default()).unwrap();
        assert_eq!(photo.dimensions(), (1, 2), "orientation 6 turns a 2×1 image into 1×2");
        // Rotating 90° clockwise puts the left (red) pixel on top.
        assert_eq!(photo.get_pixel(0, 0), &Rgb([255, 0, 0]));
        assert_eq!(photo.get_pixel(0, 1), &Rgb([0, 0, 255]));
    }
}
