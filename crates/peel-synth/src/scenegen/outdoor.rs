//! Outdoor scenes: streets with buildings, cars and trees, and open terrain.

use std::f32::consts::PI;

use super::{DEG, dark_mat, emissive_mat, sample_fov};
use crate::geom::Shape;
use crate::math::{Frame, Vec3, v3};
use crate::scene::{Builder, Camera, Env, Light, Material, Sky, class};
use crate::texture::TexKind;

fn outdoor_sky(b: &mut Builder) -> (Sky, Vec3, Vec3) {
    let elev = b.rng.range(8.0, 70.0) * DEG;
    let az = b.rng.range(0.0, 2.0 * PI);
    let sun_dir = v3(elev.cos() * az.cos(), elev.sin(), elev.cos() * az.sin());
    let overcast = b.rng.chance(0.25);
    let warm = crate::math::smoothstep(25.0 * DEG, 5.0 * DEG, elev);
    let sun_col = v3(1.0, 0.96, 0.9).lerp(v3(1.0, 0.7, 0.45), warm) * if overcast { 0.6 } else { 3.2 };
    let zenith = if overcast { v3(0.55, 0.58, 0.62) } else { v3(0.18, 0.35, 0.75).lerp(v3(0.3, 0.45, 0.8), b.rng.f32()) };
    let horizon = if overcast { v3(0.75, 0.76, 0.78) } else { v3(0.7, 0.8, 0.92).lerp(v3(0.9, 0.8, 0.7), warm) };
    let sky = Sky {
        zenith,
        horizon,
        ground: v3(0.25, 0.23, 0.2),
        sun_dir,
        sun_col: if overcast { Vec3::ZERO } else { sun_col },
        clouds: if overcast { 0.9 } else { b.rng.range(0.0, 0.6) },
        seed: b.rng.next_u64(),
    };
    let spread = if overcast { 0.2 } else { 0.01 };
    b.lights.push(Light::Sun { dir: sun_dir, col: sun_col, spread });
    let amb_up = zenith.lerp(horizon, 0.5) * if overcast { 1.6 } else { 1.0 };
    (sky, amb_up, sun_col * 0.08)
}

fn tree(b: &mut Builder, p: Vec3, leaves: u32, bark: u32) -> u32 {
    let obj = b.object(class::TREE, true, leaves);
    let h = b.rng.range(3.0, 9.0);
    let tr = h * b.rng.range(0.02, 0.035);
    if b.rng.chance(0.3) {
        // Conifer.
        b.vcyl(obj, p, tr, h * 0.3, bark);
        b.prim(obj, Shape::Cone { c: p + Vec3::Y * (h * 0.2), f: Frame { u: Vec3::X, v: Vec3::Z, w: Vec3::Y }, r0: h * 0.22, r1: 0.0, len: h * 0.85 }, leaves);
    } else {
        let trunk_h = h * b.rng.range(0.4, 0.55);
        b.vcyl(obj, p, tr, trunk_h + h * 0.2, bark);
        let cr = h * b.rng.range(0.22, 0.32);
        let n = b.rng.int(1, 3);
        for _ in 0..n {
            let off = v3(b.rng.range(-0.4, 0.4), b.rng.range(-0.2, 0.3), b.rng.range(-0.4, 0.4)) * cr;
            let r = v3(cr * b.rng.range(0.8, 1.2), cr * b.rng.range(0.7, 1.0), cr * b.rng.range(0.8, 1.2));
            b.prim(obj, Shape::Ellipsoid { c: p + Vec3::Y * (trunk_h + cr * 0.8) + off, f: Frame::yaw(b.rng.range(0.0, PI)), r }, leaves);
        }
    }
    obj
}

fn car(b: &mut Builder, p: Vec3, yaw: f32) -> u32 {
    let paint = b.paint_mat_on(TexKind::Plain, 0.7);
    b.materials[paint as usize].refl = 0.35;
    let obj = b.object(class::CAR, true, paint);
    let f = Frame::yaw(yaw);
    let l = b.rng.range(4.1, 4.9);
    let w = b.rng.range(1.7, 1.9);
    let bh = b.rng.range(0.6, 0.8);
    let clear = 0.22;
    b.cuboid(obj, p + Vec3::Y * clear, v3(w, bh, l), yaw, paint);
    let glass = dark_mat(b, 0.9);
    b.materials[glass as usize].refl = 0.5;
    let cl = l * b.rng.range(0.45, 0.6);
    let chh = b.rng.range(0.42, 0.6);
    let shift = b.rng.range(-0.1, 0.35);
    b.cuboid(obj, p + Vec3::Y * (clear + bh) + f.w * shift, v3(w * 0.86, chh, cl), yaw, glass);
    b.cuboid(obj, p + Vec3::Y * (clear + bh + chh) + f.w * shift, v3(w * 0.84, 0.04, cl * 0.85), yaw, paint);
    let tyre = dark_mat(b, 0.1);
    let wr = b.rng.range(0.3, 0.34);
    for (sx, sz) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
        let c = p + f.u * (sx * (w * 0.5 - 0.2)) + f.w * (sz * (l * 0.5 - 0.8)) + Vec3::Y * wr;
        let axis = f.u;
        b.prim(obj, Shape::Cylinder { c: c - axis * 0.12, f: Frame::from_w(axis), r: wr, len: 0.24 }, tyre);
    }
    // Lights.
    let head = emissive_mat(b, v3(0.6, 0.6, 0.55));
    let tail = emissive_mat(b, v3(0.5, 0.02, 0.01));
    for s in [-1.0, 1.0] {
        b.cuboid(obj, p + Vec3::Y * (clear + bh * 0.6) + f.u * (s * (w * 0.5 - 0.2)) + f.w * (l * 0.5), v3(0.25, 0.1, 0.02), yaw, head);
        b.cuboid(obj, p + Vec3::Y * (clear + bh * 0.6) + f.u * (s * (w * 0.5 - 0.2)) - f.w * (l * 0.5), v3(0.25, 0.1, 0.02), yaw, tail);
    }
    obj
}

fn pole(b: &mut Builder, p: Vec3, street_lamp: bool, arm_dir: Vec3) -> u32 {
    let m = if b.rng.chance(0.5) { dark_mat(b, 0.5) } else { b.tex_mat(TexKind::Concrete, 1.0, Vec3::splat(0.8), 0.2) };
    let obj = b.object(class::POLE, true, m);
    if street_lamp {
        let h = b.rng.range(5.0, 8.0);
        b.vcyl(obj, p, 0.09, h, m);
        let arm = b.rng.range(1.0, 2.0);
        let f = Frame::from_w(arm_dir);
        b.prim(obj, Shape::Cuboid { c: p + Vec3::Y * h + arm_dir * (arm * 0.5), f, h: v3(0.05, 0.05, arm * 0.5) }, m);
        b.prim(obj, Shape::Cuboid { c: p + Vec3::Y * (h - 0.08) + arm_dir * arm, f, h: v3(0.15, 0.06, 0.3) }, m);
    } else {
        let h = b.rng.range(2.2, 3.0);
        b.vcyl(obj, p, 0.04, h, m);
        let sign = b.paint_mat(0.3);
        let f = Frame::from_w(arm_dir);
        b.prim(obj, Shape::Cuboid { c: p + Vec3::Y * (h - 0.3), f, h: v3(0.3, 0.3, 0.01) }, sign);
    }
    obj
}

pub(super) fn street(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
    let (sky, amb_up, amb_down) = outdoor_sky(b);
    let ground_m = if b.rng.chance(0.5) { b.tex_mat(TexKind::Grass, 4.0, Vec3::ONE, 0.0) } else { b.tex_mat(TexKind::Concrete, 4.0, Vec3::ONE, 0.05) };
    let ground = b.object(class::GROUND, false, ground_m);
    b.prim(ground, Shape::Plane { p: Vec3::ZERO, f: Frame { u: Vec3::X, v: Vec3::Y, w: Vec3::Z } }, ground_m);
    let rw = b.rng.range(6.0, 14.0);
    let sw = b.rng.range(2.0, 4.5);
    let z0 = -420.0;
    let z1 = 60.0;
    let zc = (z0 + z1) * 0.5;
    let zl = z1 - z0;
    let road_m = b.tex_mat(TexKind::Asphalt, b.rng.range(3.0, 6.0), Vec3::ONE, 0.15);
    let road = b.object(class::ROAD, false, road_m);
    b.prim(road, Shape::Cuboid { c: v3(0.0, -0.05, zc), f: Frame::IDENTITY, h: v3(rw * 0.5 + 0.3, 0.06, zl * 0.5) }, road_m);
    let curb = 0.14;
    let side_m = if b.rng.chance(0.5) { b.tex_mat(TexKind::Tiles, b.rng.range(0.8, 2.0), Vec3::splat(0.85), 0.05) } else { b.tex_mat(TexKind::Concrete, 2.0, Vec3::ONE, 0.05) };
    for s in [-1.0, 1.0] {
        let o = b.object(class::SIDEWALK, false, side_m);
        b.prim(o, Shape::Cuboid { c: v3(s * (rw * 0.5 + sw * 0.5), curb * 0.5 - 0.05, zc), f: Frame::IDENTITY, h: v3(sw * 0.5, curb * 0.5 + 0.05, zl * 0.5) }, side_m);
    }
    // Lane markings.
    let lm_tex = b.bank.pick(&mut b.rng, TexKind::Plain);
    let lane_col = if b.rng.chance(0.3) { v3(0.8, 0.6, 0.1) } else { Vec3::splat(0.85) };
    let lm = b.mat(Material { tex: lm_tex, tint: lane_col, scale: (1.0, 1.0), offset: (0.0, 0.0), spec: 0.1, shininess: 20.0, refl: 0.0, emit: Vec3::ZERO });
    let marks = b.object(class::LANE_MARKING, false, lm);
    let dash = b.rng.range(2.0, 4.0);
    let period = dash + b.rng.range(3.0, 8.0);
    let mut z = 20.0;
    while z > -160.0 {
        b.prim(marks, Shape::Cuboid { c: v3(0.0, 0.012, z), f: Frame::IDENTITY, h: v3(0.07, 0.002, dash * 0.5) }, lm);
        z -= period;
    }
    // Buildings on both sides.
    let facade_tex: Vec<u32> = (0..3).map(|_| b.bank.pick(&mut b.rng, TexKind::Facade)).collect();
    for s in [-1.0f32, 1.0] {
        let mut z = z1;
        let setback = b.rng.range(0.0, 4.0);
        while z > z0 + 30.0 {
            let len = b.rng.range(8.0, 35.0);
            if b.rng.chance(0.12) {
                z -= len * 0.5;
                continue;
            }
            let dep = b.rng.range(10.0, 25.0);
            let floors = b.rng.int(2, 16) as f32;
            let fh = b.rng.range(2.9, 3.6);
            let bh = floors * fh + b.rng.range(0.0, 1.5);
            let bay = b.rng.range(2.5, 4.0);
            let m = if b.rng.chance(0.75) {
                let tex = *b.rng.pick(&facade_tex);
                let tint = Vec3::splat(b.rng.range(0.8, 1.15));
                b.mat(Material { tex, tint, scale: (bay * 2.0, fh * 2.0), offset: (0.0, 0.0), spec: 0.2, shininess: 40.0, refl: 0.1, emit: Vec3::ZERO })
            } else if b.rng.chance(0.5) {
                b.tex_mat(TexKind::Brick, 2.5, Vec3::ONE, 0.05)
            } else {
                b.tex_mat(TexKind::Concrete, 3.0, Vec3::ONE, 0.05)
            };
            let o = b.object(class::BUILDING, true, m);
            let x = s * (rw * 0.5 + sw + setback + dep * 0.5 + b.rng.range(0.0, 1.5));
            b.prim(o, Shape::Cuboid { c: v3(x, bh * 0.5, z - len * 0.5), f: Frame::IDENTITY, h: v3(dep * 0.5, bh * 0.5, len * 0.5 - 0.2) }, m);
            z -= len;
        }
    }
    // Camera.
    let cam_x = b.rng.range(-rw * 0.5 + 1.0, rw * 0.5 + sw - 0.5);
    let on_walk = cam_x.abs() > rw * 0.5;
    let base_y = if on_walk { curb } else { 0.0 };
    let ch = if b.rng.chance(0.85) { b.rng.range(1.2, 2.0) } else { b.rng.range(2.5, 10.0) };
    let pos = v3(cam_x, base_y + ch, b.rng.range(0.0, 10.0));
    // Cars: parked near curbs and in lanes.
    let mut cz = 40.0;
    while cz > -120.0 {
        cz -= b.rng.range(5.5, 12.0);
        for s in [-1.0f32, 1.0] {
            if !b.rng.chance(0.45) {
                continue;
            }
            let lane = if b.rng.chance(0.7) { rw * 0.5 - 1.15 } else { rw * 0.25 };
            let x = s * lane;
            if (x - pos.x).abs() < 2.2 && (cz - pos.z).abs() < 4.0 {
                continue;
            }
            let yaw = if s > 0.0 { 0.0 } else { PI } + b.rng.normal() * 0.03;
            car(b, v3(x, 0.0, cz), yaw);
        }
    }
    // Trees and poles on sidewalks.
    let leaves = b.tex_mat(TexKind::Leaves, 1.5, Vec3::ONE, 0.0);
    let bark = b.tex_mat(TexKind::Bark, 1.0, Vec3::ONE, 0.0);
    let mut tz = 30.0;
    let tree_p = b.rng.range(0.2, 0.8);
    while tz > -150.0 {
        tz -= b.rng.range(6.0, 14.0);
        for s in [-1.0f32, 1.0] {
            let x = s * (rw * 0.5 + 0.6);
            if (x - pos.x).abs() < 1.0 && (tz - pos.z).abs() < 1.0 {
                continue;
            }
            if b.rng.chance(tree_p) {
                tree(b, v3(x, curb, tz), leaves, bark);
            } else if b.rng.chance(0.25) {
                let lamp = b.rng.chance(0.6);
                pole(b, v3(x, curb, tz), lamp, v3(-s, 0.0, 0.0));
            }
        }
    }
    let yaw = if ch > 3.0 || b.rng.chance(0.8) { b.rng.normal() * 15.0 * DEG } else { b.rng.range(-65.0, 65.0) * DEG };
    let pitch = if ch > 3.0 { b.rng.range(-25.0, 0.0) } else { b.rng.range(-12.0, 8.0) } * DEG;
    let roll = b.rng.normal() * 2.0 * DEG;
    let cam = Camera::new(pos, yaw, pitch, roll, sample_fov(&mut b.rng), width, height);
    let env = Env { amb_up, amb_down, sky: Some(sky), haze_dist: b.rng.range(400.0, 2500.0), haze_col: sky.horizon * 0.6, ao_radius: 1.2 };
    (cam, env)
}

pub(super) fn terrain(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
    let (sky, amb_up, amb_down) = outdoor_sky(b);
    let gm = b.tex_mat(TexKind::Grass, b.rng.range(2.0, 5.0), Vec3::ONE, 0.0);
    let ground = b.object(class::GROUND, false, gm);
    b.prim(ground, Shape::Plane { p: Vec3::ZERO, f: Frame { u: Vec3::X, v: Vec3::Y, w: Vec3::Z } }, gm);
    // Distant hills.
    for _ in 0..b.rng.int(2, 7) {
        let dist = b.rng.range(120.0, 1500.0);
        let ang = b.rng.range(0.0, 2.0 * PI);
        let r = dist * b.rng.range(0.25, 0.6);
        let hm = if b.rng.chance(0.6) { gm } else { b.tex_mat(TexKind::Leaves, b.rng.range(8.0, 30.0), Vec3::ONE, 0.0) };
        let o = b.object(class::GROUND, false, hm);
        let hgt = r * b.rng.range(0.1, 0.35);
        b.prim(o, Shape::Ellipsoid { c: v3(ang.cos() * dist, -hgt * 0.3, ang.sin() * dist), f: Frame::yaw(ang), r: v3(r, hgt, r * b.rng.range(0.5, 1.2)) }, hm);
    }
    let pos = v3(0.0, b.rng.range(1.2, 2.5), 0.0);
    let leaves = b.tex_mat(TexKind::Leaves, 1.5, Vec3::ONE, 0.0);
    let bark = b.tex_mat(TexKind::Bark, 1.0, Vec3::ONE, 0.0);
    let yaw = b.rng.range(0.0, 2.0 * PI);
    let fwd = v3(-yaw.sin(), 0.0, -yaw.cos());
    let side = v3(fwd.z, 0.0, -fwd.x);
    for _ in 0..b.rng.int(8, 30) {
        let dist = 7.0 + 120.0 * b.rng.f32().powi(2);
        let p = fwd * dist + side * (dist * b.rng.range(-1.2, 1.2));
        tree(b, v3(p.x, 0.0, p.z), leaves, bark);
    }
    let rock_m = b.tex_mat(TexKind::Concrete, 1.0, Vec3::splat(b.rng.range(0.6, 1.0)), 0.1);
    for _ in 0..b.rng.int(3, 14) {
        let dist = 2.0 + 40.0 * b.rng.f32().powi(2);
        let p = fwd * dist + side * (dist * b.rng.range(-1.0, 1.0));
        let r = b.rng.range(0.2, 1.5);
        let o = b.object(class::ROCK, true, rock_m);
        b.prim(o, Shape::Ellipsoid { c: v3(p.x, r * 0.3, p.z), f: Frame::yaw(b.rng.range(0.0, PI)), r: v3(r, r * b.rng.range(0.5, 0.9), r * b.rng.range(0.6, 1.1)) }, rock_m);
    }
    if b.rng.chance(0.5) {
        // A line of power poles.
        let off = b.rng.range(-15.0, 15.0);
        for i in 0..8 {
            let p = side * off + fwd * (10.0 + i as f32 * 30.0);
            let o = b.object(class::POLE, true, bark);
            b.vcyl(o, v3(p.x, 0.0, p.z), 0.13, 9.0, bark);
            b.prim(o, Shape::Cuboid { c: v3(p.x, 8.5, p.z), f: Frame::yaw(yaw), h: v3(1.0, 0.06, 0.06) }, bark);
        }
    }
    let pitch = b.rng.range(-15.0, 5.0) * DEG;
    let roll = b.rng.normal() * 2.0 * DEG;
    let cam = Camera::new(pos, yaw + b.rng.normal() * 10.0 * DEG, pitch, roll, sample_fov(&mut b.rng), width, height);
    let env = Env { amb_up, amb_down, sky: Some(sky), haze_dist: b.rng.range(300.0, 2000.0), haze_col: sky.horizon * 0.6, ao_radius: 1.0 };
    (cam, env)
}
