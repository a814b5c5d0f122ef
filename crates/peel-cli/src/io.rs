//! Reading images, `.npy`, `.pfm` and 16-bit millimetre PNGs; writing files (their bytes for
//! decoded values come from `peel_protocol::export`).

use std::fs;
use std::io::{Read, Seek};
use std::path::Path;

use image::{DynamicImage, GenericImageView};
use ndarray::{Array, Array2, Array3};
use ndarray_npy::ReadNpyExt;
use peel_model::photo::PhotoLimits;
use peel_protocol::depth::DepthCodec;
use peel_protocol::normals;

use crate::error::{CliError, CliResult, Context};

/// A row-major buffer with its size.
pub struct Grid<T> {
    pub width: u32,
    pub height: u32,
    pub data: Vec<T>,
}

/// Lower-case extension of a path ("" if none).
pub fn extension(path: &Path) -> String {
    path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
}

/// Reads an image as the page's worker does (`peel_model::photo`): the format from the content,
/// the size checked against the limits before decoding (one-line message with the limit), and the
/// EXIF orientation applied.
pub fn open_image(path: &Path) -> CliResult<DynamicImage> {
    let bytes = read_bounded(path, MAX_FILE_BYTES)?;
    peel_model::photo::decode(&bytes, &PhotoLimits::default()).context(path.display())
}

/// Largest input file read (a 64-megapixel photo as an uncompressed 16-bit RGBA file is 512 MB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Reads a whole file, refusing (with the limit) one larger than `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> CliResult<Vec<u8>> {
    let len = fs::metadata(path).context(path.display())?.len();
    if len > limit {
        return Err(CliError::msg(format!("{}: the file is {len} bytes; the limit is {limit} bytes", path.display())));
    }
    fs::read(path).context(path.display())
}

/// Whether an image holds colour (a visualization) rather than one channel (labels, mm, masks).
pub fn is_colour(img: &DynamicImage) -> bool {
    img.color().has_color()
}

pub fn rgb8(img: &DynamicImage) -> Grid<u8> {
    let (width, height) = img.dimensions();
    Grid { width, height, data: img.to_rgb8().into_raw() }
}

/// One-channel values of a grey image (8- or 16-bit).
pub fn grey16(img: &DynamicImage) -> Grid<u16> {
    let (width, height) = img.dimensions();
    Grid { width, height, data: img.to_luma16().into_raw() }
}

/// Grey 8-bit images keep their values (to_luma16 would scale 255 to 65535).
pub fn grey_labels(img: &DynamicImage) -> Grid<u16> {
    match img {
        DynamicImage::ImageLuma8(buf) => {
            let (width, height) = buf.dimensions();
            Grid { width, height, data: buf.as_raw().iter().map(|&v| u16::from(v)).collect() }
        }
        other => grey16(other),
    }
}

/// Checks a `.npy` header before `ndarray-npy` allocates what it claims: the data its shape
/// needs must be in the file (a 10-byte file claiming 100000×100000 floats is refused as truncated).
fn check_npy_size(file: &mut (impl Read + Seek), len: u64) -> CliResult {
    let bad = |what: String| CliError::msg(format!("not a valid .npy ({what})"));
    if len > MAX_FILE_BYTES {
        return Err(CliError::msg(format!("the file is {len} bytes; the limit is {MAX_FILE_BYTES} bytes")));
    }
    let mut head = vec![0u8; 4096.min(len as usize)];
    file.read_exact(&mut head)?;
    file.rewind()?;
    if head.len() < 10 || &head[..6] != b"\x93NUMPY" {
        return Err(bad("no \\x93NUMPY magic".into()));
    }
    let (header_len, start) = match head[6] {
        1 => (usize::from(u16::from_le_bytes([head[8], head[9]])), 10usize),
        2 | 3 if head.len() >= 12 => (u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize, 12),
        v => return Err(bad(format!("version {v}"))),
    };
    let header = head.get(start..start.saturating_add(header_len)).ok_or_else(|| bad("truncated header".into()))?;
    let header = String::from_utf8_lossy(header);
    // ndarray-npy's header parser (py_literal) backtracks exponentially on nested brackets: a
    // 200-byte header ten levels deep took a minute (found by fuzzing `arrays`). A float array's
    // header nests two levels, `{… (H, W) …}`; deeper ones are refused before it parses them.
    let depth = header
        .chars()
        .scan(0i32, |depth, c| {
            *depth += match c {
                '(' | '[' | '{' => 1,
                ')' | ']' | '}' => -1,
                _ => 0,
            };
            Some(*depth)
        })
        .max()
        .unwrap_or(0);
    if depth > 2 {
        return Err(bad(format!("its header nests brackets {depth} deep; a float array's nests 2")));
    }
    let shape = header
        .split_once("'shape':")
        .and_then(|(_, rest)| rest.split_once('('))
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside.to_string())
        .ok_or_else(|| bad("no shape in the header".into()))?;
    let mut elements: u64 = 1;
    for dim in shape.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let n: u64 = dim.parse().map_err(|_| bad(format!("shape ({shape})")))?;
        elements = elements.checked_mul(n).ok_or_else(|| bad(format!("shape ({shape}) overflows")))?;
    }
    // float32 is the smallest element type read here.
    let needed = elements.checked_mul(4).and_then(|n| n.checked_add((start + header_len) as u64));
    match needed {
        Some(n) if n <= len => Ok(()),
        _ => Err(bad(format!("truncated: shape ({shape}) needs at least {} bytes of data, the file has {len}", elements.saturating_mul(4)))),
    }
}

/// A float32 or float64 `.npy` of dimension `D` (`len` bytes), as f32; `shape` names the
/// expected shape for errors.
fn npy_f32<D: ndarray::Dimension>(mut file: impl Read + Seek, len: u64, shape: &str) -> CliResult<Array<f32, D>> {
    check_npy_size(&mut file, len)?;
    match Array::<f32, D>::read_npy(&mut file) {
        Ok(a) => Ok(a),
        Err(_) => {
            file.rewind()?;
            Array::<f64, D>::read_npy(&mut file)
                .map(|a| a.mapv(|v| v as f32))
                .map_err(|e| CliError::msg(format!("expected a float32/float64 .npy of shape {shape}: {e}")))
        }
    }
}

/// Depth in metres from an (H, W) `.npy` of `len` bytes.
pub fn depth_npy(file: impl Read + Seek, len: u64) -> CliResult<Grid<f32>> {
    let a: Array2<f32> = npy_f32(file, len, "(H, W)")?;
    let (h, w) = a.dim();
    let (width, height) = dims(w, h)?;
    Ok(Grid { width, height, data: a.as_standard_layout().iter().copied().collect() })
}

/// Normal vectors from an (H, W, 3) `.npy` of `len` bytes.
pub fn normals_npy(file: impl Read + Seek, len: u64) -> CliResult<Grid<[f32; 3]>> {
    let a: Array3<f32> = npy_f32(file, len, "(H, W, 3)")?;
    let (h, w, c) = a.dim();
    if c != 3 {
        return Err(CliError::msg(format!("expected shape (H, W, 3), found ({h}, {w}, {c})")));
    }
    let (width, height) = dims(w, h)?;
    let flat: Vec<f32> = a.as_standard_layout().iter().copied().collect();
    Ok(Grid { width, height, data: flat.chunks_exact(3).map(|n| [n[0], n[1], n[2]]).collect() })
}

fn dims(w: usize, h: usize) -> CliResult<(u32, u32)> {
    match (u32::try_from(w), u32::try_from(h)) {
        (Ok(width), Ok(height)) if width > 0 && height > 0 => Ok((width, height)),
        _ => Err(CliError::msg(format!("bad array size {h}x{w}"))),
    }
}

/// Opens a file for streaming, with its length.
fn open_file(path: &Path) -> CliResult<(fs::File, u64)> {
    let file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    Ok((file, len))
}

/// Depth in metres from `.npy`, `.pfm` or a 16-bit millimetre PNG (0 = no depth) or, given a
/// codec, a colour visualization.
pub fn load_depth(path: &Path, codec: Option<&DepthCodec>) -> CliResult<Grid<f32>> {
    match extension(path).as_str() {
        "npy" => open_file(path).and_then(|(file, len)| depth_npy(file, len)).context(path.display()),
        "pfm" => pfm(&read_bounded(path, MAX_FILE_BYTES)?).context(path.display()),
        _ => depth_image(&open_image(path)?, codec).context(path.display()),
    }
}

/// Depth from a decoded image: a colour visualization (given its codec) or millimetres in grey.
pub fn depth_image(img: &DynamicImage, codec: Option<&DepthCodec>) -> CliResult<Grid<f32>> {
    match (is_colour(img), codec) {
        (true, Some(codec)) => {
            let rgb = rgb8(img);
            let map = codec.decode_image(&rgb.data, rgb.width, rgb.height)?;
            Ok(Grid { width: map.width, height: map.height, data: map.meters })
        }
        (true, None) => Err(CliError::msg("expected depth values (.npy, .pfm or 16-bit PNG), found a colour image")),
        (false, _) => {
            let mm = grey16(img);
            Ok(Grid { width: mm.width, height: mm.height, data: mm.data.iter().map(|&v| f32::from(v) / 1000.0).collect() })
        }
    }
}

/// Unit normals from an (H, W, 3) `.npy` or a colour visualization.
pub fn load_normals(path: &Path) -> CliResult<Grid<[f32; 3]>> {
    if extension(path) == "npy" {
        return open_file(path).and_then(|(file, len)| normals_npy(file, len)).context(path.display());
    }
    let img = open_image(path)?;
    let rgb = rgb8(&img);
    let map = normals::decode_image(&rgb.data, rgb.width, rgb.height).context(path.display())?;
    Ok(Grid { width: map.width, height: map.height, data: map.normals })
}

/// Normal vectors (not a visualization) to encode: an (H, W, 3) `.npy`.
pub fn load_normals_values(path: &Path) -> CliResult<Grid<[f32; 3]>> {
    if extension(path) != "npy" {
        return Err(CliError::msg(format!("{}: expected normals as an (H, W, 3) .npy", path.display())));
    }
    load_normals(path)
}

/// Writes an RGB image; the format follows the extension.
pub fn write_rgb(path: &Path, rgb: Vec<u8>, width: u32, height: u32) -> CliResult {
    let buf = image::RgbImage::from_raw(width, height, rgb).ok_or_else(|| CliError::msg("image buffer does not match its size"))?;
    buf.save(path).context(path.display())
}

/// Writes a file's bytes (from `peel_protocol::export`).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> CliResult {
    fs::write(path, bytes).context(path.display())
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(CliError::msg)?;
    fs::write(path, text + "\n").context(path.display())
}

/// Depth from a greyscale PFM's bytes (rows bottom to top, the scale's sign giving the byte order).
pub fn pfm(bytes: &[u8]) -> CliResult<Grid<f32>> {
    let bad = |what: &str| CliError::msg(format!("not a greyscale PFM ({what})"));
    // Header: three whitespace-separated lines.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if start == at {
            return Err(bad("truncated header"));
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    at += 1; // the single whitespace byte after the scale
    if fields[0] != "Pf" {
        return Err(bad("magic is not Pf"));
    }
    let w: usize = fields[1].parse().map_err(|_| bad("width"))?;
    let h: usize = fields[2].parse().map_err(|_| bad("height"))?;
    let scale: f32 = fields[3].parse().map_err(|_| bad("scale"))?;
    let (width, height) = dims(w, h)?;
    let needed = w.checked_mul(h).and_then(|n| n.checked_mul(4)).ok_or_else(|| bad("size"))?;
    let body = bytes.get(at..).filter(|b| b.len() >= needed).ok_or_else(|| bad("truncated data"))?;
    let read = |c: &[u8]| {
        let raw = [c[0], c[1], c[2], c[3]];
        if scale < 0.0 { f32::from_le_bytes(raw) } else { f32::from_be_bytes(raw) }
    };
    let rows: Vec<Vec<f32>> = body[..needed].chunks_exact(4 * w).map(|row| row.chunks_exact(4).map(read).collect()).collect();
    Ok(Grid { width, height, data: rows.into_iter().rev().flatten().collect() })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A version-1 `.npy` with `header` (padded as numpy pads it) and `data` after it.
    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut header = header.as_bytes().to_vec();
        header.resize(header.len() + 63 - (10 + header.len()) % 64, b' ');
        header.push(b'\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header);
        bytes.extend(data);
        bytes
    }

    #[test]
    fn a_deeply_nested_npy_header_is_refused_before_it_is_parsed() {
        let plain = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", &[0, 0, 128, 63, 0, 0, 0, 64]);
        let grid = depth_npy(Cursor::new(&plain), plain.len() as u64).unwrap();
        assert_eq!((grid.width, grid.height, grid.data.clone()), (2, 1, vec![1.0, 2.0]));
        // Twelve levels: minutes in the header parser without the check (found by fuzzing).
        let nested = npy(&format!("{{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), 'x': {}}}", "[(1, ".repeat(12)), &[0; 8]);
        let err = depth_npy(Cursor::new(&nested), nested.len() as u64).err().expect("refused").to_string();
        assert!(err.contains("nests brackets 25 deep; a float array's nests 2"), "{err}");
    }
}
