//! Textures: photo crops from disk and procedural patterns, with mip levels.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::math::{Rng, Vec3, clamp01, hash, smoothstep, splitmix64, v3};

/// sRGB byte to linear lookup.
fn srgb_lut() -> &'static [f32; 256] {
    static LUT: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    LUT.get_or_init(|| {
        let mut t = [0f32; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = srgb_to_linear(i as f32 / 255.0);
        }
        t
    })
}

pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

pub fn linear_to_srgb(c: f32) -> f32 {
    let c = clamp01(c);
    if c <= 0.003_130_8 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 }
}

struct Level {
    w: usize,
    h: usize,
    px: Vec<[u8; 3]>,
}

/// What a texture is, which decides where it may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TexKind {
    Photo,
    Wood,
    Planks,
    Brick,
    Tiles,
    Plaster,
    Fabric,
    Concrete,
    Asphalt,
    Grass,
    Marble,
    Facade,
    Leaves,
    Bark,
    Plain,
}

/// A texture with a mip pyramid (sRGB bytes) and its mean linear colour.
pub struct Texture {
    levels: Vec<Level>,
    pub kind: TexKind,
    pub mean: Vec3,
    /// Mirror-repeat instead of plain repeat (photos are not tileable).
    pub mirror: bool,
}

impl Texture {
    fn from_pixels(w: usize, h: usize, px: Vec<[u8; 3]>, kind: TexKind, mirror: bool) -> Texture {
        let lut = srgb_lut();
        let mut mean = Vec3::ZERO;
        for p in &px {
            mean += v3(lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]);
        }
        mean = mean / px.len().max(1) as f32;
        let mut levels = vec![Level { w, h, px }];
        while levels.last().is_some_and(|l| l.w > 1 && l.h > 1) {
            let l = levels.last().unwrap();
            let (nw, nh) = (l.w / 2, l.h / 2);
            let mut out = Vec::with_capacity(nw * nh);
            for y in 0..nh {
                for x in 0..nw {
                    let mut acc = [0u32; 3];
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let p = l.px[(2 * y + dy) * l.w + 2 * x + dx];
                        for c in 0..3 {
                            acc[c] += p[c] as u32;
                        }
                    }
                    out.push([(acc[0] / 4) as u8, (acc[1] / 4) as u8, (acc[2] / 4) as u8]);
                }
            }
            levels.push(Level { w: nw, h: nh, px: out });
        }
        Texture { levels, kind, mean, mirror }
    }

    pub fn aspect(&self) -> f32 {
        self.levels[0].h as f32 / self.levels[0].w as f32
    }

    /// Bilinear sample at (u, v) in texture widths; `footprint` is the size of a
    /// pixel in texture widths, used to pick the mip level.
    pub fn sample(&self, u: f32, v: f32, footprint: f32) -> Vec3 {
        let base = &self.levels[0];
        let lvl = (footprint * base.w as f32).max(1.0).log2().floor() as usize;
        let l = &self.levels[lvl.min(self.levels.len() - 1)];
        let lut = srgb_lut();
        let fx = u * l.w as f32 - 0.5;
        // v is measured in texture widths, so scale by width for both axes.
        let fy = v * l.w as f32 - 0.5;
        let x0 = fx.floor();
        let y0 = fy.floor();
        let tx = fx - x0;
        let ty = fy - y0;
        let (x0, y0) = (x0 as i64, y0 as i64);
        let fetch = |x: i64, y: i64| -> Vec3 {
            let xi = wrap(x, l.w, self.mirror);
            let yi = wrap(y, l.h, self.mirror);
            let p = l.px[yi * l.w + xi];
            v3(lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize])
        };
        let a = fetch(x0, y0).lerp(fetch(x0 + 1, y0), tx);
        let b = fetch(x0, y0 + 1).lerp(fetch(x0 + 1, y0 + 1), tx);
        a.lerp(b, ty)
    }
}

#[inline]
fn wrap(i: i64, n: usize, mirror: bool) -> usize {
    let n = n as i64;
    if mirror {
        let m = i.rem_euclid(2 * n);
        (if m >= n { 2 * n - 1 - m } else { m }) as usize
    } else {
        i.rem_euclid(n) as usize
    }
}

// ---------------------------------------------------------------- noise

/// Tileable value noise with integer period `p` (lattice units).
fn vnoise(x: f32, y: f32, p: i64, seed: u64) -> f32 {
    let xi = x.floor();
    let yi = y.floor();
    let (tx, ty) = (x - xi, y - yi);
    let (xi, yi) = (xi as i64, yi as i64);
    let h = |a: i64, b: i64| -> f32 {
        let v = hash(&[seed, a.rem_euclid(p) as u64, b.rem_euclid(p) as u64]);
        (v >> 40) as f32 / (1u64 << 24) as f32
    };
    let sx = tx * tx * (3.0 - 2.0 * tx);
    let sy = ty * ty * (3.0 - 2.0 * ty);
    let a = h(xi, yi) + (h(xi + 1, yi) - h(xi, yi)) * sx;
    let b = h(xi, yi + 1) + (h(xi + 1, yi + 1) - h(xi, yi + 1)) * sx;
    a + (b - a) * sy
}

/// Tileable fractal noise on the unit square (u, v in [0,1)), base period `p`.
fn fbm(u: f32, v: f32, p: i64, oct: u32, seed: u64) -> f32 {
    let mut sum = 0.0;
    let mut amp = 0.5;
    let mut per = p;
    let mut norm = 0.0;
    for o in 0..oct {
        sum += amp * vnoise(u * per as f32, v * per as f32, per, seed.wrapping_add(o as u64 * 977));
        norm += amp;
        amp *= 0.5;
        per *= 2;
    }
    sum / norm
}

fn cell_rand(seed: u64, a: i64, b: i64) -> f32 {
    (hash(&[seed, a as u64, b as u64]) >> 40) as f32 / (1u64 << 24) as f32
}

fn hsv(h: f32, s: f32, v: f32) -> Vec3 {
    let h = (h.rem_euclid(1.0)) * 6.0;
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let (r, g, b) = match h as i32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    v3(r + m, g + m, b + m)
}

/// Generates one procedural texture of `kind` at `n`×`n` (values in sRGB space).
fn procedural(kind: TexKind, n: usize, seed: u64) -> Texture {
    let rng = Rng::new(seed);
    let s = seed;
    let base_hue = rng.f32();
    // Parameters per kind.
    let wood_col = hsv(rng.range(0.04, 0.10), rng.range(0.45, 0.75), rng.range(0.35, 0.8));
    let brick_col = hsv(rng.range(0.0, 0.07), rng.range(0.4, 0.7), rng.range(0.4, 0.7));
    let mortar = rng.range(0.55, 0.85);
    let tile_col = if rng.chance(0.5) { Vec3::splat(rng.range(0.7, 0.95)) } else { hsv(base_hue, rng.range(0.1, 0.5), rng.range(0.5, 0.9)) };
    let tiles_n = *rng.pick(&[2i64, 4, 4, 8]);
    let checker = rng.chance(0.3);
    let plaster_col = hsv(base_hue, rng.range(0.0, 0.25), rng.range(0.65, 0.95));
    let fabric_freq = *rng.pick(&[48.0f32, 64.0, 96.0]);
    let facade_wall = hsv(rng.range(0.0, 0.15), rng.range(0.05, 0.4), rng.range(0.35, 0.85));
    let glass = hsv(rng.range(0.5, 0.65), rng.range(0.1, 0.4), rng.range(0.15, 0.45));
    let marble_col = hsv(base_hue, rng.range(0.0, 0.1), rng.range(0.75, 0.95));
    let grass_col = hsv(rng.range(0.17, 0.30), rng.range(0.4, 0.7), rng.range(0.3, 0.55));
    let planks = *rng.pick(&[4i64, 6, 8]);
    let mut px = Vec::with_capacity(n * n);
    for y in 0..n {
        for x in 0..n {
            let u = x as f32 / n as f32;
            let v = y as f32 / n as f32;
            let c: Vec3 = match kind {
                TexKind::Wood | TexKind::Planks => {
                    let rows = if kind == TexKind::Planks { planks } else { 1 };
                    let row = (v * rows as f32).floor() as i64;
                    let off = cell_rand(s, row, 7);
                    let plank_len = if kind == TexKind::Planks { 0.5 } else { 1.0 };
                    let col = ((u + off) / plank_len).floor() as i64;
                    let tone = 0.75 + 0.5 * cell_rand(s, row, col);
                    // Grain runs along u: stripes in v, wobbled by low-frequency noise.
                    let g = fbm(u + off, v, 2, 3, s + row as u64);
                    let stripes = ((v * 14.0 + g * 3.0) * std::f32::consts::TAU).sin();
                    let rings = stripes.abs().powf(0.5);
                    let grain = fbm((u + off).fract(), v, 8, 1, s ^ 11) * 0.5 + fbm(u, v, 128, 2, s ^ 13) * 0.5;
                    let mut c = wood_col * (tone * (0.78 + 0.14 * rings + 0.3 * (grain - 0.5)));
                    if kind == TexKind::Planks {
                        let fy = (v * rows as f32).fract();
                        let fx = ((u + off) / plank_len).fract();
                        if fy < 0.015 || fx < 0.005 {
                            c = c * 0.45;
                        }
                    }
                    c
                }
                TexKind::Brick => {
                    let rows = 16.0;
                    let cols = 4.0;
                    let r = (v * rows).floor();
                    let shift = if (r as i64) % 2 == 0 { 0.0 } else { 0.5 };
                    let cu = u * cols + shift;
                    let cidx = cu.floor() as i64;
                    let fy = (v * rows).fract();
                    let fx = cu.fract();
                    let m = (fy < 0.12) || (fx < 0.03);
                    let nz = fbm(u, v, 32, 3, s);
                    if m {
                        Vec3::splat(mortar * (0.8 + 0.3 * nz))
                    } else {
                        let t = 0.7 + 0.6 * cell_rand(s, r as i64, cidx);
                        brick_col * (t * (0.8 + 0.4 * nz))
                    }
                }
                TexKind::Tiles => {
                    let tu = u * tiles_n as f32;
                    let tv = v * tiles_n as f32;
                    let (ix, iy) = (tu.floor() as i64, tv.floor() as i64);
                    let (fx, fy) = (tu.fract(), tv.fract());
                    let grout = fx < 0.03 || fy < 0.03;
                    let nz = fbm(u, v, 16, 3, s);
                    if grout {
                        Vec3::splat(0.5 + 0.2 * nz)
                    } else {
                        let mut c = tile_col * (0.92 + 0.12 * cell_rand(s, ix, iy) + 0.08 * (nz - 0.5));
                        if checker && (ix + iy) % 2 == 1 {
                            c = c * 0.35;
                        }
                        c
                    }
                }
                TexKind::Plaster => {
                    let nz = fbm(u, v, 8, 5, s);
                    plaster_col * (0.9 + 0.15 * (nz - 0.5))
                }
                TexKind::Plain => {
                    let nz = fbm(u, v, 16, 4, s);
                    Vec3::splat(0.85 + 0.1 * (nz - 0.5))
                }
                TexKind::Fabric => {
                    let a = (u * fabric_freq * std::f32::consts::TAU).sin();
                    let b = (v * fabric_freq * std::f32::consts::TAU).sin();
                    let weave = if a * b > 0.0 { 0.5 + 0.5 * a.abs() } else { 0.5 + 0.5 * b.abs() };
                    let nz = fbm(u, v, 16, 3, s);
                    Vec3::splat(0.72 + 0.18 * weave + 0.15 * (nz - 0.5))
                }
                TexKind::Concrete | TexKind::Asphalt => {
                    let nz = fbm(u, v, 8, 6, s);
                    let speck = cell_rand(s, x as i64, y as i64);
                    let (b, k) = if kind == TexKind::Asphalt { (0.22, 0.08) } else { (0.6, 0.15) };
                    Vec3::splat(b + k * (nz - 0.5) + 0.06 * (speck - 0.5))
                }
                TexKind::Grass => {
                    let nz = fbm(u, v, 8, 5, s);
                    let hi = cell_rand(s, x as i64, y as i64);
                    let dirt = smoothstep(0.55, 0.75, fbm(u, v, 4, 3, s ^ 5));
                    let g = grass_col * (0.7 + 0.5 * nz + 0.3 * (hi - 0.5));
                    g.lerp(v3(0.35, 0.27, 0.18) * (0.7 + 0.5 * nz), dirt * 0.7)
                }
                TexKind::Marble => {
                    let t = fbm(u, v, 4, 5, s);
                    let vein = ((u * 3.0 + v * 2.0 + t * 6.0) * std::f32::consts::PI).sin().abs().powf(0.3);
                    marble_col * (0.75 + 0.25 * vein)
                }
                TexKind::Facade => {
                    // One texture tile = 2 bays x 2 floors.
                    let bu = (u * 2.0).fract();
                    let bv = (v * 2.0).fract();
                    let bi = (u * 2.0).floor() as i64;
                    let bj = (v * 2.0).floor() as i64;
                    let win = bu > 0.2 && bu < 0.8 && bv > 0.25 && bv < 0.8;
                    let nz = fbm(u, v, 16, 4, s);
                    if win {
                        let refl = 0.6 + 0.8 * cell_rand(s, bi, bj) + 0.5 * (1.0 - bv);
                        let frame = !(0.23..=0.77).contains(&bu) || !(0.28..=0.77).contains(&bv) || (bu - 0.5).abs() < 0.015;
                        if frame { Vec3::splat(0.25) } else { glass * refl }
                    } else {
                        facade_wall * (0.85 + 0.3 * (nz - 0.5))
                    }
                }
                TexKind::Leaves => {
                    let nz = fbm(u, v, 16, 4, s);
                    let blot = cell_rand(s, (u * 64.0) as i64, (v * 64.0) as i64);
                    hsv(0.22 + 0.08 * nz, 0.6, 0.15 + 0.35 * nz + 0.15 * blot)
                }
                TexKind::Bark => {
                    let nz = fbm(u * 1.0, v, 8, 4, s);
                    let stripes = fbm(u, v * 0.125, 32, 2, s ^ 3);
                    v3(0.3, 0.22, 0.15) * (0.5 + 0.6 * nz * stripes + 0.2)
                }
                TexKind::Photo => Vec3::splat(0.5),
            };
            px.push([
                (clamp01(c.x) * 255.0 + 0.5) as u8,
                (clamp01(c.y) * 255.0 + 0.5) as u8,
                (clamp01(c.z) * 255.0 + 0.5) as u8,
            ]);
        }
    }
    Texture::from_pixels(n, n, px, kind, false)
}

/// All textures available to a run: procedural variants plus a bounded random subset of photos.
pub struct TextureBank {
    pub textures: Vec<Texture>,
    /// Indices of textures per kind.
    by_kind: Vec<(TexKind, Vec<u32>)>,
    pub photo_count: usize,
}

/// Where photo textures come from.
#[derive(Clone, Debug)]
pub struct PhotoSource {
    pub dir: Option<PathBuf>,
    /// How many photos to load at most.
    pub max_photos: usize,
    /// Longest side of a loaded photo after downscaling.
    pub max_side: u32,
}

impl Default for PhotoSource {
    fn default() -> Self {
        PhotoSource { dir: None, max_photos: 64, max_side: 256 }
    }
}

const PROCEDURAL: [(TexKind, usize); 14] = [
    (TexKind::Wood, 4),
    (TexKind::Planks, 4),
    (TexKind::Brick, 3),
    (TexKind::Tiles, 4),
    (TexKind::Plaster, 4),
    (TexKind::Fabric, 3),
    (TexKind::Concrete, 3),
    (TexKind::Asphalt, 2),
    (TexKind::Grass, 3),
    (TexKind::Marble, 2),
    (TexKind::Facade, 6),
    (TexKind::Leaves, 2),
    (TexKind::Bark, 2),
    (TexKind::Plain, 2),
];

/// Image files under `dir`, recursively, sorted.
pub fn list_photos(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(ext) = p.extension().and_then(|e| e.to_str()) {
                let ext = ext.to_ascii_lowercase();
                if ext == "jpg" || ext == "jpeg" || ext == "png" {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

impl TextureBank {
    /// Builds the bank; procedural textures depend only on `seed`, photos on `seed` and the folder.
    /// Returns the bank and warnings (e.g. photos missing).
    pub fn new(seed: u64, photos: &PhotoSource) -> (TextureBank, Vec<String>) {
        let mut warnings = Vec::new();
        let mut jobs: Vec<(TexKind, u64)> = Vec::new();
        for (k, count) in PROCEDURAL {
            for i in 0..count {
                jobs.push((k, hash(&[seed, 0x7e7, k as u64, i as u64])));
            }
        }
        let mut textures: Vec<Texture> = jobs.par_iter().map(|&(k, s)| procedural(k, 256, s)).collect();
        let mut photo_count = 0;
        match &photos.dir {
            Some(dir) if photos.max_photos > 0 => {
                let mut files = list_photos(dir);
                if files.is_empty() {
                    warnings.push(format!(
                        "warning: no photos found in {}; using procedural textures only",
                        dir.display()
                    ));
                } else {
                    let rng = Rng::new(splitmix64(seed ^ 0x9407));
                    rng.shuffle(&mut files);
                    files.truncate(photos.max_photos);
                    let side = photos.max_side.max(16);
                    let loaded: Vec<Option<Texture>> = files
                        .par_iter()
                        .map(|p| {
                            let img = image::open(p).ok()?;
                            let img = if img.width() > side || img.height() > side { img.thumbnail(side, side) } else { img };
                            let rgb = img.to_rgb8();
                            let (w, h) = (rgb.width() as usize, rgb.height() as usize);
                            if w < 8 || h < 8 {
                                return None;
                            }
                            let px: Vec<[u8; 3]> = rgb.pixels().map(|p| p.0).collect();
                            Some(Texture::from_pixels(w, h, px, TexKind::Photo, true))
                        })
                        .collect();
                    let failed = loaded.iter().filter(|t| t.is_none()).count();
                    if failed > 0 {
                        warnings.push(format!("warning: {failed} photos could not be decoded and were skipped"));
                    }
                    for t in loaded.into_iter().flatten() {
                        textures.push(t);
                        photo_count += 1;
                    }
                }
            }
            _ => warnings.push("warning: photo folder not available; using procedural textures only".into()),
        }
        let mut by_kind: Vec<(TexKind, Vec<u32>)> = Vec::new();
        for (i, t) in textures.iter().enumerate() {
            match by_kind.iter_mut().find(|(k, _)| *k == t.kind) {
                Some((_, v)) => v.push(i as u32),
                None => by_kind.push((t.kind, vec![i as u32])),
            }
        }
        (TextureBank { textures, by_kind, photo_count }, warnings)
    }

    /// A texture of the given kind, falling back to `Plain` (photos fall back to procedural kinds).
    pub fn pick(&self, rng: &mut Rng, kind: TexKind) -> u32 {
        let get = |k: TexKind| self.by_kind.iter().find(|(kk, _)| *kk == k).map(|(_, v)| v);
        match get(kind) {
            Some(v) if !v.is_empty() => *rng.pick(v),
            _ => {
                let fallback = [TexKind::Plaster, TexKind::Marble, TexKind::Fabric, TexKind::Wood];
                let k = *rng.pick(&fallback);
                get(k).map(|v| *rng.pick(v)).unwrap_or(0)
            }
        }
    }

    pub fn has_photos(&self) -> bool {
        self.photo_count > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedural_textures_are_deterministic_and_tileable() {
        let a = procedural(TexKind::Brick, 64, 5);
        let b = procedural(TexKind::Brick, 64, 5);
        assert_eq!(a.levels[0].px, b.levels[0].px);
        assert_eq!(a.levels.last().unwrap().w, 1);
        // Sampling wraps.
        let p = a.sample(0.25, 0.25, 0.0);
        let q = a.sample(1.25, 2.25, 0.0);
        assert!((p - q).length() < 1e-5);
    }

    #[test]
    fn mirror_wrap_stays_in_range() {
        for i in -20..20 {
            assert!(wrap(i, 5, true) < 5);
            assert!(wrap(i, 5, false) < 5);
        }
        assert_eq!(wrap(5, 5, true), 4);
        assert_eq!(wrap(-1, 5, true), 0);
    }
}
