//! Reading and writing samples on disk.

use std::io::Write;
use std::path::Path;

use crate::{Meta, Sample, SynthError};

fn io_err(path: &Path, e: std::io::Error) -> SynthError {
    SynthError::Io { path: path.to_path_buf(), source: e }
}

/// Writes a little-endian float32 `.npy` (format 1.0, C order).
pub fn write_npy_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), SynthError> {
    let shape_s = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_s}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut buf = Vec::with_capacity(10 + header.len() + data.len() * 4);
    buf.extend_from_slice(b"\x93NUMPY\x01\x00");
    buf.extend_from_slice(&(header.len() as u16).to_le_bytes());
    buf.extend_from_slice(header.as_bytes());
    for v in data {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    let mut f = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    f.write_all(&buf).map_err(|e| io_err(path, e))
}

/// Reads a float32 little-endian `.npy`; returns (shape, data).
pub fn read_npy_f32(path: &Path) -> Result<(Vec<usize>, Vec<f32>), SynthError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let bad = |m: &str| SynthError::Format { path: path.to_path_buf(), msg: m.to_string() };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not an npy file"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        _ => return Err(bad("unsupported npy version")),
    };
    let header = std::str::from_utf8(bytes.get(start..start + hlen).ok_or_else(|| bad("truncated header"))?).map_err(|_| bad("header not utf-8"))?;
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("expected little-endian float32 in C order"));
    }
    let sh = header.split("'shape':").nth(1).and_then(|s| s.split(['(', ')']).nth(1)).ok_or_else(|| bad("no shape"))?;
    let shape: Vec<usize> = sh.split(',').map(|s| s.trim()).filter(|s| !s.is_empty()).map(|s| s.parse().map_err(|_| bad("bad shape"))).collect::<Result<_, _>>()?;
    let n: usize = shape.iter().product();
    let body = &bytes[start + hlen..];
    if body.len() != n * 4 {
        return Err(bad("data length does not match shape"));
    }
    let data = body.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok((shape, data))
}

pub(crate) fn write_sample(s: &Sample, dir: &Path) -> Result<(), SynthError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let (w, h) = (s.width, s.height);
    let (wu, hu) = (w as usize, h as usize);
    let img_err = |p: &Path, e: image::ImageError| SynthError::Format { path: p.to_path_buf(), msg: e.to_string() };
    let p = dir.join("rgb.png");
    image::save_buffer(&p, &s.rgb, w, h, image::ExtendedColorType::Rgb8).map_err(|e| img_err(&p, e))?;
    let p = dir.join("semantic.png");
    image::save_buffer(&p, &s.semantic, w, h, image::ExtendedColorType::L8).map_err(|e| img_err(&p, e))?;
    let p = dir.join("instance.png");
    let inst: image::ImageBuffer<image::Luma<u16>, Vec<u16>> = image::ImageBuffer::from_raw(w, h, s.instance.clone()).ok_or_else(|| SynthError::Invalid("instance buffer size".into()))?;
    inst.save(&p).map_err(|e| img_err(&p, e))?;
    write_npy_f32(&dir.join("depth.npy"), &[hu, wu], &s.depth)?;
    write_npy_f32(&dir.join("normal.npy"), &[hu, wu, 3], &s.normal)?;
    let p = dir.join("meta.json");
    let json = serde_json::to_string_pretty(&s.meta).map_err(|e| SynthError::Format { path: p.clone(), msg: e.to_string() })?;
    std::fs::write(&p, json).map_err(|e| io_err(&p, e))
}

/// Reads a sample folder written by [`Sample::write`].
pub fn read_sample(dir: &Path) -> Result<Sample, SynthError> {
    let img_err = |p: &Path, e: image::ImageError| SynthError::Format { path: p.to_path_buf(), msg: e.to_string() };
    let bad = |p: &Path, m: &str| SynthError::Format { path: p.to_path_buf(), msg: m.to_string() };
    let p = dir.join("meta.json");
    let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
    let meta: Meta = serde_json::from_str(&text).map_err(|e| bad(&p, &e.to_string()))?;
    let (w, h) = (meta.width, meta.height);
    let p = dir.join("rgb.png");
    let rgb = image::open(&p).map_err(|e| img_err(&p, e))?;
    if rgb.width() != w || rgb.height() != h {
        return Err(bad(&p, "size differs from meta.json"));
    }
    let rgb = rgb.to_rgb8().into_raw();
    let p = dir.join("semantic.png");
    let sem = image::open(&p).map_err(|e| img_err(&p, e))?;
    let semantic = match sem {
        image::DynamicImage::ImageLuma8(b) if b.width() == w && b.height() == h => b.into_raw(),
        _ => return Err(bad(&p, "expected 8-bit grey of the meta.json size")),
    };
    let p = dir.join("instance.png");
    let inst = image::open(&p).map_err(|e| img_err(&p, e))?;
    let instance = match inst {
        image::DynamicImage::ImageLuma16(b) if b.width() == w && b.height() == h => b.into_raw(),
        _ => return Err(bad(&p, "expected 16-bit grey of the meta.json size")),
    };
    let p = dir.join("depth.npy");
    let (shape, depth) = read_npy_f32(&p)?;
    if shape != [h as usize, w as usize] {
        return Err(bad(&p, "shape differs from meta.json"));
    }
    let p = dir.join("normal.npy");
    let (shape, normal) = read_npy_f32(&p)?;
    if shape != [h as usize, w as usize, 3] {
        return Err(bad(&p, "shape differs from meta.json"));
    }
    Ok(Sample { width: w, height: h, rgb, depth, normal, semantic, instance, meta })
}
