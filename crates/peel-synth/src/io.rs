//! Reading and writing samples on disk.

use std::path::Path;

use ndarray::{ArrayView, Dimension, Ix2, Ix3};
use ndarray_npy::{ViewNpyExt, WriteNpyExt};

use crate::{Meta, Sample, SynthError};

fn io_err(path: &Path, e: std::io::Error) -> SynthError {
    SynthError::Io { path: path.to_path_buf(), source: e }
}

fn format_err(path: &Path, e: impl std::fmt::Display) -> SynthError {
    SynthError::Format { path: path.to_path_buf(), msg: e.to_string() }
}

/// Writes `data` (row-major, `shape`) as a float32 `.npy`, as `numpy.save` does.
fn write_f32<D: Dimension>(path: &Path, shape: D, data: &[f32]) -> Result<(), SynthError> {
    let array = ArrayView::from_shape(shape, data).map_err(|e| format_err(path, e))?;
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    array.write_npy(std::io::BufWriter::new(file)).map_err(|e| format_err(path, e))
}

/// Reads a float32 `.npy` that must have `shape`, as row-major values. The file is viewed in
/// place, so a header that claims more data than the file holds allocates nothing.
fn read_f32<D: Dimension>(path: &Path, shape: D) -> Result<Vec<f32>, SynthError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let array = ArrayView::<f32, D>::view_npy(&bytes).map_err(|e| format_err(path, e))?;
    if array.raw_dim() != shape {
        return Err(format_err(path, format!("shape {:?} differs from meta.json's {:?}", array.shape(), shape.slice())));
    }
    // iter() walks in logical (C) order, also for a Fortran-order file.
    Ok(array.iter().copied().collect())
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
    write_f32(&dir.join("depth.npy"), Ix2(hu, wu), &s.depth)?;
    write_f32(&dir.join("normal.npy"), Ix3(hu, wu, 3), &s.normal)?;
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
    let (hu, wu) = (h as usize, w as usize);
    let depth = read_f32(&dir.join("depth.npy"), Ix2(hu, wu))?;
    let normal = read_f32(&dir.join("normal.npy"), Ix3(hu, wu, 3))?;
    Ok(Sample { width: w, height: h, rgb, depth, normal, semantic, instance, meta })
}
