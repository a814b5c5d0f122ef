//! Camera effects: exposure, white balance, tone mapping, vignetting, blur, noise and JPEG artefacts.

use rayon::prelude::*;

use crate::math::{Rng, Vec3, clamp01, hash, hash_f32};
use crate::texture::linear_to_srgb;

#[inline]
fn aces(x: f32) -> f32 {
    let x = x.max(0.0);
    clamp01((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14))
}

/// Turns linear HDR colour into an 8-bit sRGB photo (HxWx3, row-major).
pub fn develop(color: &[Vec3], w: usize, h: usize, seed: u64, effects: bool) -> Vec<u8> {
    let rng = Rng::new(seed);
    // Auto exposure on the log-average luminance.
    let mut logsum = 0.0f64;
    for c in color {
        logsum += (c.luma().max(1e-4) as f64).ln();
    }
    let geo = (logsum / color.len().max(1) as f64).exp() as f32;
    let ev = if effects { rng.normal() * 0.35 } else { 0.0 };
    // Keep the brightest 3% from burning out completely.
    let mut lum: Vec<f32> = color.iter().step_by(7).map(|c| c.luma()).collect();
    let p97 = if lum.is_empty() {
        1.0
    } else {
        let k = (lum.len() * 97 / 100).min(lum.len() - 1);
        *lum.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
    };
    let exposure = (0.18 * 2f32.powf(ev) / geo.max(1e-4)).min(2.5 / p97.max(1e-4));
    let wb = if effects { Vec3 { x: 1.0 + rng.normal() * 0.04, y: 1.0, z: 1.0 + rng.normal() * 0.04 } } else { Vec3::ONE };
    let vignette = if effects { rng.range(0.0, 0.45) } else { 0.0 };
    let blur = if effects && rng.chance(0.6) { rng.range(0.3, 0.9) } else { 0.0 };
    let read_noise = if effects { rng.range(0.0, 0.02) } else { 0.0 };
    let shot = if effects { rng.range(0.0, 0.03) } else { 0.0 };
    let jpeg_q = if effects && rng.chance(0.6) { Some(rng.int(45, 95) as u8) } else { None };
    let (cx, cy) = (w as f32 * 0.5, h as f32 * 0.5);
    let rmax2 = cx * cx + cy * cy;
    let mut img: Vec<Vec3> = vec![Vec3::ZERO; w * h];
    img.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, o) in row.iter_mut().enumerate() {
            let c = color[y * w + x];
            let r2 = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)) / rmax2;
            let v = 1.0 - vignette * r2;
            let c = c.cmul(wb) * (exposure * v);
            *o = Vec3 { x: linear_to_srgb(aces(c.x)), y: linear_to_srgb(aces(c.y)), z: linear_to_srgb(aces(c.z)) };
        }
    });
    if blur > 0.0 {
        img = gaussian(&img, w, h, blur);
    }
    let mut out = vec![0u8; w * h * 3];
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for x in 0..w {
            let c = img[y * w + x];
            let hh = hash(&[seed, 0x40153, (y * w + x) as u64]);
            let n = if read_noise > 0.0 || shot > 0.0 {
                let g = (hash_f32(hh) + hash_f32(hh ^ 1) + hash_f32(hh ^ 2) - 1.5) * 2.0;
                g * (read_noise + shot * c.luma().sqrt())
            } else {
                0.0
            };
            for (k, v) in [c.x, c.y, c.z].into_iter().enumerate() {
                let cn = if read_noise > 0.0 { (hash_f32(hh ^ (7 + k as u64)) - 0.5) * read_noise * 0.6 } else { 0.0 };
                row[x * 3 + k] = (clamp01(v + n + cn) * 255.0 + 0.5) as u8;
            }
        }
    });
    if let Some(j) = jpeg_q.and_then(|q| jpeg_roundtrip(&out, w, h, q)) {
        out = j;
    }
    out
}

fn gaussian(img: &[Vec3], w: usize, h: usize, sigma: f32) -> Vec<Vec3> {
    let r = (sigma * 2.5).ceil() as i64;
    let k: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let ks: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / ks).collect();
    let tmp = blur_pass(img, w, h, &k, true);
    blur_pass(&tmp, w, h, &k, false)
}

/// One separable pass of the kernel `k` (odd length), along rows or columns, clamping at edges.
fn blur_pass(img: &[Vec3], w: usize, h: usize, k: &[f32], horizontal: bool) -> Vec<Vec3> {
    let r = (k.len() / 2) as i64;
    let mut out = vec![Vec3::ZERO; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, o) in row.iter_mut().enumerate() {
            let mut a = Vec3::ZERO;
            for (i, kv) in k.iter().enumerate() {
                let d = i as i64 - r;
                let idx = if horizontal {
                    y * w + (x as i64 + d).clamp(0, w as i64 - 1) as usize
                } else {
                    (y as i64 + d).clamp(0, h as i64 - 1) as usize * w + x
                };
                a += img[idx] * *kv;
            }
            *o = a;
        }
    });
    out
}

fn jpeg_roundtrip(rgb: &[u8], w: usize, h: usize, q: u8) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q);
    image::ImageEncoder::write_image(enc, rgb, w as u32, h as u32, image::ExtendedColorType::Rgb8).ok()?;
    let img = image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg).ok()?.to_rgb8();
    if img.width() as usize != w || img.height() as usize != h {
        return None;
    }
    Some(img.into_raw())
}
