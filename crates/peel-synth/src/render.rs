//! Ray casting: primary visibility (exact ground truth) and shading (the photo).

use rayon::prelude::*;

use crate::geom::Ray;
use crate::math::{Vec3, hash, hash_f32, v3};
use crate::scene::{Light, Scene};
use crate::texture::TextureBank;

/// Rendering quality knobs. Ground truth does not depend on them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quality {
    /// Ambient-occlusion rays per pixel (0 disables AO).
    pub ao_samples: u32,
    /// Cast shadow rays towards lights.
    pub shadows: bool,
    /// Edge-aware filtering of the (noisy) lighting buffer.
    pub denoise: bool,
    /// Shadow-test one light per pixel, drawn by contribution, instead of all lights.
    pub sample_lights: bool,
    /// Apply camera effects (exposure jitter, vignetting, blur, noise, JPEG).
    pub camera_effects: bool,
}

impl Default for Quality {
    fn default() -> Self {
        Quality { ao_samples: 1, shadows: true, denoise: true, sample_lights: true, camera_effects: true }
    }
}

/// Per-pixel render output before post-processing.
pub struct Frame {
    pub width: usize,
    pub height: usize,
    /// Z-depth in meters (inf for sky).
    pub depth: Vec<f32>,
    /// Camera-frame unit normals (zero for sky).
    pub normal: Vec<[f32; 3]>,
    /// Object index per pixel, `u32::MAX` for sky.
    pub object: Vec<u32>,
    /// Linear HDR colour.
    pub color: Vec<Vec3>,
}

#[derive(Clone, Copy, Default)]
struct GPix {
    depth: f32,
    dist: f32,
    normal: Vec3,
    object: u32,
    albedo: Vec3,
    irr: Vec3,
    extra: Vec3,
}

const NO_OBJECT: u32 = u32::MAX;

#[inline]
fn rnd(h: u64, k: u64) -> f32 {
    hash_f32(h ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Cosine-weighted direction around `n`.
#[inline]
fn cosine_dir(n: Vec3, r1: f32, r2: f32) -> Vec3 {
    let t = n.any_orthonormal();
    let b = n.cross(t);
    let phi = std::f32::consts::TAU * r1;
    let r = r2.sqrt();
    (t * (r * phi.cos()) + b * (r * phi.sin()) + n * (1.0 - r2).max(0.0).sqrt()).normalize()
}

fn shade(scene: &Scene, bank: &TextureBank, q: &Quality, px: usize, py: usize, seed: u64) -> GPix {
    let cam = &scene.camera;
    let (d, zscale) = cam.ray_dir(px as f32 + 0.5, py as f32 + 0.5);
    let ray = Ray { o: cam.pos, d };
    let h = hash(&[seed, px as u64, py as u64]);
    let Some((hit, pi)) = scene.bvh.closest(&scene.prims, &ray, 1e-4, 1e7) else {
        let sky = scene.sky.map(|s| s.radiance(d)).unwrap_or(Vec3::ZERO);
        return GPix { depth: f32::INFINITY, dist: f32::INFINITY, normal: Vec3::ZERO, object: NO_OBJECT, albedo: Vec3::ZERO, irr: Vec3::ZERO, extra: sky };
    };
    let prim = &scene.prims[pi as usize];
    let mut n = hit.n;
    let cos_v = n.dot(d);
    if cos_v > 0.0 {
        n = -n;
    }
    let cos_v = cos_v.abs();
    let p = ray.o + d * hit.t;
    let m = &scene.materials[prim.material as usize];
    let tex = &bank.textures[m.tex as usize];
    let foot_m = hit.t / (cam.fx * cos_v.max(0.05).sqrt());
    let uu = hit.uv.0 / m.scale.0 + m.offset.0;
    let vv = m.offset.1 - hit.uv.1 / m.scale.1;
    let albedo_raw = tex.sample(uu, vv, foot_m / m.scale.0).cmul(m.tint);
    let albedo = albedo_raw.min(Vec3::splat(0.95));
    let eps = 2e-4 + hit.t * 2e-5;
    let po = p + n * eps;
    // Ambient with occlusion.
    let hemi = scene.amb_down.lerp(scene.amb_up, n.y * 0.5 + 0.5);
    let mut ao = 1.0;
    // Far away, occlusion within `ao_radius` is below a pixel: skip the rays.
    if q.ao_samples > 0 && foot_m < scene.ao_radius * 0.25 {
        let mut occ = 0;
        for k in 0..q.ao_samples as u64 {
            let dir = cosine_dir(n, rnd(h, 10 + 2 * k), rnd(h, 11 + 2 * k));
            if scene.bvh.occluded(&scene.prims, &Ray { o: po, d: dir }, 0.0, scene.ao_radius) {
                occ += 1;
            }
        }
        ao = 1.0 - 0.85 * occ as f32 / q.ao_samples as f32;
    }
    let mut irr = hemi * ao;
    let mut spec = Vec3::ZERO;
    // Unshadowed contribution of each light; with `sample_lights` one light per pixel is drawn in
    // proportion to its contribution and shadow-tested (unbiased; the lighting filter removes most
    // of the noise), else every light gets a shadow ray.
    let mut cand: [(Vec3, f32, Vec3, f32); 8] = [(Vec3::ZERO, 0.0, Vec3::ZERO, 0.0); 8];
    let mut nc = 0usize;
    let mut total = 0.0f32;
    for (li, light) in scene.lights.iter().enumerate().take(8) {
        let k = 100 + 4 * li as u64;
        let (l, dist, e) = match *light {
            Light::Sun { dir, col, spread } => {
                let j = v3(rnd(h, k) - 0.5, rnd(h, k + 1) - 0.5, rnd(h, k + 2) - 0.5) * (2.0 * spread);
                ((dir + j).normalize(), 1e6, col)
            }
            Light::Point { pos, col, radius } => {
                let j = v3(rnd(h, k) - 0.5, rnd(h, k + 1) - 0.5, rnd(h, k + 2) - 0.5) * (2.0 * radius);
                let lv = pos + j - p;
                let r2 = lv.dot(lv).max(0.04);
                let r = r2.sqrt();
                (lv / r, r, col / r2)
            }
            Light::Rect { c, eu, ev, n: ln, col } => {
                let s = c + eu * (2.0 * rnd(h, k) - 1.0) + ev * (2.0 * rnd(h, k + 1) - 1.0);
                let lv = s - p;
                let r2 = lv.dot(lv).max(0.1);
                let r = r2.sqrt();
                let l = lv / r;
                let cos_l = (-l).dot(ln).max(0.0);
                let area = 4.0 * eu.length() * ev.length();
                (l, r, col * (cos_l * area / r2))
            }
        };
        let ndl = n.dot(l);
        if ndl <= 0.0 || e.max_elem() <= 0.0 {
            continue;
        }
        let w = e.luma() * ndl;
        cand[nc] = (l, dist, e * ndl, w);
        total += w;
        nc += 1;
    }
    let mut add_light = |l: Vec3, dist: f32, e: Vec3, weight: f32| {
        if q.shadows && scene.bvh.occluded(&scene.prims, &Ray { o: po, d: l }, 0.0, dist - 0.02) {
            return;
        }
        irr += e * weight;
        if m.spec > 0.0 {
            let hv = (l - d).normalize();
            let s = n.dot(hv).max(0.0).powf(m.shininess) * m.spec * (m.shininess + 8.0) / 25.0;
            spec += e * (s * weight);
        }
    };
    if nc <= 1 || total <= 0.0 || !q.sample_lights {
        for &(l, dist, e, _) in &cand[..nc] {
            add_light(l, dist, e, 1.0);
        }
    } else {
        let mut r = rnd(h, 300) * total;
        let mut pick = nc - 1;
        for (i, c) in cand[..nc].iter().enumerate() {
            if r < c.3 {
                pick = i;
                break;
            }
            r -= c.3;
        }
        let (l, dist, e, w) = cand[pick];
        add_light(l, dist, e, total / w);
    }
    let mut extra = spec + m.emit.cmul(albedo_raw);
    if m.refl > 0.0 {
        let r = d - n * (2.0 * d.dot(n));
        let env = match &scene.sky {
            Some(s) => s.radiance(r),
            None => scene.amb_up * 3.0,
        };
        let fres = m.refl + (1.0 - m.refl) * (1.0 - cos_v).powi(5) * m.refl.min(0.5) * 2.0;
        extra += env * (fres * ao);
    }
    let f = cam.f;
    GPix {
        depth: hit.t * zscale,
        dist: hit.t,
        normal: v3(n.dot(f.u), n.dot(f.v), n.dot(f.w)),
        object: prim.object,
        albedo,
        irr,
        extra,
    }
}

/// Renders a scene. `seed` decorrelates the per-pixel random numbers; results do not depend on threading.
pub fn render(scene: &Scene, bank: &TextureBank, q: &Quality, seed: u64) -> Frame {
    let w = scene.camera.width as usize;
    let hgt = scene.camera.height as usize;
    let mut g = vec![GPix::default(); w * hgt];
    g.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, px) in row.iter_mut().enumerate() {
            *px = shade(scene, bank, q, x, y, seed);
        }
    });
    // Edge-aware filtering of the irradiance.
    let irr: Vec<Vec3> = if q.denoise {
        let mut out = vec![Vec3::ZERO; w * hgt];
        out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                let c = &g[y * w + x];
                if c.object == NO_OBJECT {
                    continue;
                }
                let mut acc = Vec3::ZERO;
                let mut wsum = 0.0;
                let r = 2i64;
                for dy in -r..=r {
                    let yy = y as i64 + dy;
                    if yy < 0 || yy >= hgt as i64 {
                        continue;
                    }
                    for dx in -r..=r {
                        let xx = x as i64 + dx;
                        if xx < 0 || xx >= w as i64 {
                            continue;
                        }
                        let s = &g[yy as usize * w + xx as usize];
                        if s.object != c.object {
                            continue;
                        }
                        let nd = s.normal.dot(c.normal);
                        if nd < 0.9 || (s.depth - c.depth).abs() > 0.03 * c.depth {
                            continue;
                        }
                        let wt = if dx == 0 && dy == 0 { 1.0 } else { 0.6 };
                        acc += s.irr * wt;
                        wsum += wt;
                    }
                }
                *o = acc / wsum;
            }
        });
        out
    } else {
        g.iter().map(|p| p.irr).collect()
    };
    let mut color = vec![Vec3::ZERO; w * hgt];
    color.par_iter_mut().enumerate().for_each(|(i, c)| {
        let p = &g[i];
        let mut col = p.albedo.cmul(irr[i]) + p.extra;
        if p.object != NO_OBJECT && scene.haze_dist.is_finite() {
            let f = (-p.dist / scene.haze_dist * std::f32::consts::LN_2).exp();
            col = col * f + scene.haze_col * (1.0 - f);
        }
        *c = col;
    });
    Frame {
        width: w,
        height: hgt,
        depth: g.iter().map(|p| p.depth).collect(),
        normal: g.iter().map(|p| p.normal.to_array()).collect(),
        object: g.iter().map(|p| p.object).collect(),
        color,
    }
}
