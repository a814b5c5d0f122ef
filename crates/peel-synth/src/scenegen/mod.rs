//! Procedural scene generators: indoor rooms and tabletops ([`indoor`]), streets and open
//! terrain ([`outdoor`]), and the furniture and small objects they place ([`props`]).
//!
//! All sizes are in meters and chosen to be physically plausible.

mod indoor;
mod outdoor;
mod props;

use std::f32::consts::PI;

use crate::math::{Rng, Vec3};
use crate::scene::{Builder, Camera, Env, Material, SceneKind};
use crate::texture::TexKind;

const DEG: f32 = PI / 180.0;

/// A room's floor size (x by z) and height, in meters.
struct Room {
    w: f32,
    d: f32,
    h: f32,
}

/// Field of view and camera sampling shared by the generators.
fn sample_fov(rng: &mut Rng) -> f32 {
    // 35..95 degrees, biased towards common 50..75.
    let t = (rng.f32() + rng.f32()) * 0.5;
    (35.0 + 60.0 * t) * DEG
}

fn wood_mat(b: &mut Builder) -> u32 {
    let tint = Vec3::splat(b.rng.range(0.8, 1.2));
    b.tex_mat(TexKind::Wood, b.rng.range(0.8, 1.6), tint, 0.15)
}

/// Random material for furniture: wood, paint or fabric.
fn furniture_mat(b: &mut Builder, fabric: bool) -> u32 {
    let r = b.rng.f32();
    if fabric && r < 0.6 {
        b.paint_mat(0.02)
    } else if r < 0.5 {
        wood_mat(b)
    } else {
        b.paint_mat(0.25)
    }
}

fn dark_mat(b: &mut Builder, spec: f32) -> u32 {
    let tex = b.bank.pick(&mut b.rng, TexKind::Plain);
    let g = b.rng.range(0.03, 0.08);
    b.mat(Material { tex, tint: Vec3::splat(g), scale: (1.0, 1.0), offset: (0.0, 0.0), spec, shininess: 40.0, refl: spec * 0.3, emit: Vec3::ZERO })
}

fn emissive_mat(b: &mut Builder, col: Vec3) -> u32 {
    let tex = b.bank.pick(&mut b.rng, TexKind::Plain);
    b.mat(Material { tex, tint: Vec3::splat(0.9), scale: (1.0, 1.0), offset: (0.0, 0.0), spec: 0.0, shininess: 1.0, refl: 0.0, emit: col })
}

fn yaw_towards(from: Vec3, to: Vec3) -> f32 {
    // Camera looks along -w; Frame::yaw(y).w = (sin y, 0, cos y).
    let d = from - to;
    d.x.atan2(d.z)
}

/// The kind of a `mixed` sample: 40% indoor, 30% outdoor, 30% tabletop.
pub fn pick_kind(rng: &Rng) -> SceneKind {
    let r = rng.f32();
    if r < 0.4 {
        SceneKind::Indoor
    } else if r < 0.7 {
        SceneKind::Outdoor
    } else {
        SceneKind::Tabletop
    }
}

/// Generates a scene of the given kind (Mixed picks one at random).
pub fn generate(b: &mut Builder, kind: SceneKind, width: u32, height: u32) -> (SceneKind, Camera, Env) {
    let kind = match kind {
        SceneKind::Mixed => pick_kind(&b.rng),
        k => k,
    };
    let (cam, env) = match kind {
        SceneKind::Indoor => indoor::indoor(b, width, height),
        SceneKind::Tabletop => indoor::tabletop(b, width, height),
        _ => {
            if b.rng.chance(0.75) {
                outdoor::street(b, width, height)
            } else {
                outdoor::terrain(b, width, height)
            }
        }
    };
    (kind, cam, env)
}
