//! Procedural scene generators: indoor rooms, tabletops, streets and open terrain.
//!
//! All sizes are in meters and chosen to be physically plausible.

use std::f32::consts::{FRAC_PI_2, PI};

use crate::geom::Shape;
use crate::math::{Frame, Rng, Vec3, v3};
use crate::scene::{Builder, Camera, Env, Light, Material, PAINT, SceneKind, Sky, class};
use crate::texture::TexKind;

const DEG: f32 = PI / 180.0;

/// A rotated rectangle on the floor plane used to avoid overlapping furniture.
#[derive(Clone, Copy, Debug)]
struct Foot {
    x: f32,
    z: f32,
    hw: f32,
    hd: f32,
    yaw: f32,
}

impl Foot {
    fn axes(&self) -> [(f32, f32); 2] {
        let f = Frame::yaw(self.yaw);
        [(f.u.x, f.u.z), (f.w.x, f.w.z)]
    }
    fn overlaps(&self, o: &Foot, margin: f32) -> bool {
        let axes = [self.axes(), o.axes()];
        for ax in axes.iter().flatten() {
            let proj = |f: &Foot| {
                let [a, b] = f.axes();
                let c = f.x * ax.0 + f.z * ax.1;
                let r = f.hw * (a.0 * ax.0 + a.1 * ax.1).abs() + f.hd * (b.0 * ax.0 + b.1 * ax.1).abs();
                (c - r, c + r)
            };
            let (a0, a1) = proj(self);
            let (b0, b1) = proj(o);
            if a1 + margin < b0 || b1 + margin < a0 {
                return false;
            }
        }
        true
    }
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

// ------------------------------------------------------------------ small items

/// Places a random small object standing on a surface at `p` (bottom centre), fitting in radius `room`.
/// `s` scales sizes (1 = ordinary household objects). Returns the object index, or None if nothing fits.
fn small_item(b: &mut Builder, p: Vec3, room: f32, max_h: f32, support: Option<u32>) -> Option<u32> {
    let choice = b.rng.index(8);
    let obj;
    match choice {
        0 | 1 => {
            // box
            let w = b.rng.range(0.06, 0.4).min(room * 1.4);
            let d = b.rng.range(0.06, 0.4).min(room * 1.4);
            let h = b.rng.range(0.05, 0.4).min(max_h);
            if w < 0.03 || h < 0.03 {
                return None;
            }
            let m = if b.rng.chance(0.3) { b.photo_mat(w.max(h) * 1.5, TexKind::Fabric) } else { b.paint_mat(0.2) };
            obj = b.object(class::BOX, true, m);
            let yaw = b.rng.range(0.0, PI);
            b.cuboid(obj, p, v3(w, h, d), yaw, m);
        }
        2 => {
            let r = b.rng.range(0.03, 0.15).min(room).min(max_h * 0.5);
            if r < 0.015 {
                return None;
            }
            let m = b.paint_mat(b.rng.range(0.1, 0.8));
            obj = b.object(class::SPHERE, true, m);
            b.sphere(obj, p + Vec3::Y * r, r, m);
        }
        3 => {
            let r = b.rng.range(0.03, 0.12).min(room);
            let h = b.rng.range(0.06, 0.35).min(max_h);
            let m = b.paint_mat(b.rng.range(0.1, 0.6));
            obj = b.object(class::CYLINDER, true, m);
            b.vcyl(obj, p, r, h, m);
        }
        4 => {
            // mug with handle
            let r = b.rng.range(0.035, 0.05);
            let h = b.rng.range(0.08, 0.11).min(max_h);
            let m = b.paint_mat(0.5);
            obj = b.object(class::MUG, true, m);
            b.vcyl(obj, p, r, h, m);
            let yaw = b.rng.range(0.0, 2.0 * PI);
            let f = Frame::yaw(yaw);
            b.prim(obj, Shape::Cuboid { c: p + f.u * (r + 0.015) + Vec3::Y * (h * 0.55), f, h: v3(0.015, h * 0.3, 0.006) }, m);
        }
        5 => {
            // bottle: body + shoulder + neck
            let r = b.rng.range(0.03, 0.045);
            let h = b.rng.range(0.15, 0.25).min(max_h);
            if h < 0.12 {
                return None;
            }
            let m = if b.rng.chance(0.5) {
                let g = *b.rng.pick(&[v3(0.05, 0.25, 0.08), v3(0.3, 0.15, 0.04), v3(0.6, 0.65, 0.6)]);
                let tex = b.bank.pick(&mut b.rng, TexKind::Plain);
                b.mat(Material { tex, tint: g, scale: (1.0, 1.0), offset: (0.0, 0.0), spec: 0.9, shininess: 120.0, refl: 0.5, emit: Vec3::ZERO })
            } else {
                b.paint_mat(0.7)
            };
            obj = b.object(class::BOTTLE, true, m);
            let body = h * 0.62;
            b.vcyl(obj, p, r, body, m);
            b.prim(obj, Shape::Cone { c: p + Vec3::Y * body, f: Frame { u: Vec3::X, v: Vec3::Z, w: Vec3::Y }, r0: r, r1: r * 0.35, len: h * 0.18 }, m);
            b.vcyl(obj, p + Vec3::Y * (body + h * 0.18), r * 0.35, h * 0.2, m);
        }
        6 => {
            let m = b.paint_mat(0.8);
            obj = b.object(class::CAN, true, m);
            b.vcyl(obj, p, 0.033, 0.12f32.min(max_h), m);
        }
        _ => {
            // bowl: inverted frustum
            let r1 = b.rng.range(0.07, 0.14).min(room);
            let h = b.rng.range(0.05, 0.09).min(max_h);
            let m = b.paint_mat(0.5);
            obj = b.object(class::BOWL, true, m);
            b.prim(obj, Shape::Cone { c: p, f: Frame { u: Vec3::X, v: Vec3::Z, w: Vec3::Y }, r0: r1 * 0.5, r1, len: h }, m);
        }
    }
    b.objects[obj as usize].on = support;
    Some(obj)
}

/// Scatters up to `n` small items on a rectangular surface (centre `c` at its top, yaw, half sizes).
#[allow(clippy::too_many_arguments)]
fn fill_surface(b: &mut Builder, support: u32, c: Vec3, yaw: f32, hw: f32, hd: f32, n: usize, max_h: f32) {
    let f = Frame::yaw(yaw);
    let mut placed: Vec<(f32, f32, f32)> = Vec::new();
    for _ in 0..n * 4 {
        if placed.len() >= n {
            break;
        }
        let room = b.rng.range(0.06, 0.2);
        if hw < room || hd < room {
            return;
        }
        let x = b.rng.range(-hw + room, hw - room);
        let z = b.rng.range(-hd + room, hd - room);
        if placed.iter().any(|&(px, pz, pr)| (px - x).hypot(pz - z) < pr + room + 0.02) {
            continue;
        }
        let p = c + f.u * x + f.w * z;
        if small_item(b, p, room * 0.75, max_h, Some(support)).is_some() {
            placed.push((x, z, room));
        }
    }
}

// ------------------------------------------------------------------ furniture

struct Room {
    w: f32,
    d: f32,
    h: f32,
}

/// Builds a table; returns (object, top centre, half sizes).
fn table(b: &mut Builder, x: f32, z: f32, yaw: f32, hw: f32, hd: f32, height: f32) -> (u32, Vec3) {
    let m = if b.rng.chance(0.7) { wood_mat(b) } else if b.rng.chance(0.5) { b.tex_mat(TexKind::Marble, 1.0, Vec3::ONE, 0.4) } else { b.paint_mat(0.3) };
    let obj = b.object(class::TABLE, true, m);
    let th = b.rng.range(0.025, 0.05);
    let f = Frame::yaw(yaw);
    let base = v3(x, 0.0, z);
    b.cuboid(obj, base + Vec3::Y * (height - th), v3(hw * 2.0, th, hd * 2.0), yaw, m);
    let leg_m = if b.rng.chance(0.6) { m } else { dark_mat(b, 0.4) };
    let lr = b.rng.range(0.02, 0.035);
    let round = b.rng.chance(0.5);
    for (sx, sz) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
        let p = base + f.u * (sx * (hw - 0.06)) + f.w * (sz * (hd - 0.06));
        if round {
            b.vcyl(obj, p, lr, height - th, leg_m);
        } else {
            b.cuboid(obj, p, v3(lr * 2.0, height - th, lr * 2.0), yaw, leg_m);
        }
    }
    (obj, base + Vec3::Y * height)
}

fn chair(b: &mut Builder, x: f32, z: f32, yaw: f32) -> u32 {
    let m = furniture_mat(b, true);
    let obj = b.object(class::CHAIR, true, m);
    let f = Frame::yaw(yaw);
    let s = b.rng.range(0.4, 0.5);
    let sh = b.rng.range(0.42, 0.48);
    let base = v3(x, 0.0, z);
    let leg_m = if b.rng.chance(0.5) { m } else { dark_mat(b, 0.5) };
    b.cuboid(obj, base + Vec3::Y * (sh - 0.05), v3(s, 0.05, s), yaw, m);
    let bh = b.rng.range(0.35, 0.5);
    // Back at local -z side.
    b.cuboid(obj, base + Vec3::Y * sh - f.w * (s * 0.5 - 0.02), v3(s, bh, 0.04), yaw, m);
    for (sx, sz) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
        let p = base + f.u * (sx * (s * 0.5 - 0.03)) + f.w * (sz * (s * 0.5 - 0.03));
        b.cuboid(obj, p, v3(0.04, sh - 0.05, 0.04), yaw, leg_m);
    }
    obj
}

fn shelf(b: &mut Builder, x: f32, z: f32, yaw: f32, hw: f32, hd: f32, height: f32) -> u32 {
    let m = furniture_mat(b, false);
    let obj = b.object(class::SHELF, true, m);
    let f = Frame::yaw(yaw);
    let base = v3(x, 0.0, z);
    let t = 0.02;
    for s in [-1.0, 1.0] {
        b.cuboid(obj, base + f.u * (s * (hw - t * 0.5)), v3(t, height, hd * 2.0), yaw, m);
    }
    b.cuboid(obj, base - f.w * (hd - 0.005), v3(hw * 2.0, height, 0.01), yaw, m);
    let levels = ((height / 0.35) as usize).clamp(2, 6);
    for i in 0..=levels {
        let y = i as f32 * (height - t) / levels as f32;
        b.cuboid(obj, base + Vec3::Y * y, v3(hw * 2.0 - 2.0 * t, t, hd * 2.0), yaw, m);
        if i < levels {
            let gap = (height - t) / levels as f32 - t;
            // Books: a row of thin boxes.
            let mut u = -hw + t + 0.01;
            while u < hw - t - 0.05 {
                let bw = b.rng.range(0.02, 0.05);
                if b.rng.chance(0.25) {
                    u += b.rng.range(0.05, 0.25);
                    continue;
                }
                let bh = (gap * b.rng.range(0.6, 0.92)).max(0.05);
                let bd = hd * 2.0 * b.rng.range(0.6, 0.9);
                let bm = if b.rng.chance(0.3) { b.photo_mat(0.3, TexKind::Fabric) } else { b.paint_mat(0.1) };
                let book = b.object(class::BOOK, true, bm);
                b.objects[book as usize].on = Some(obj);
                let p = base + Vec3::Y * (y + t) + f.u * (u + bw * 0.5) - f.w * (hd - bd * 0.5 - 0.01);
                b.cuboid(book, p, v3(bw, bh, bd), yaw, bm);
                u += bw + 0.003;
                if u > hw - 0.05 {
                    break;
                }
            }
        }
    }
    obj
}

fn cabinet(b: &mut Builder, x: f32, z: f32, yaw: f32, hw: f32, hd: f32, height: f32) -> (u32, Vec3) {
    let m = furniture_mat(b, false);
    let obj = b.object(class::CABINET, true, m);
    let f = Frame::yaw(yaw);
    let base = v3(x, 0.0, z);
    b.cuboid(obj, base, v3(hw * 2.0, height, hd * 2.0), yaw, m);
    let km = dark_mat(b, 0.8);
    let doors = if hw > 0.35 { 2 } else { 1 };
    for i in 0..doors {
        let u = if doors == 2 { (i as f32 - 0.5) * hw * 0.3 } else { hw * 0.6 };
        b.sphere(obj, base + f.u * u + f.w * (hd + 0.015) + Vec3::Y * (height * 0.7), 0.015, km);
    }
    (obj, base + Vec3::Y * height)
}

fn sofa(b: &mut Builder, x: f32, z: f32, yaw: f32, hw: f32) -> u32 {
    let m = b.paint_mat(0.02);
    let obj = b.object(class::SOFA, true, m);
    let f = Frame::yaw(yaw);
    let base = v3(x, 0.0, z);
    let hd = b.rng.range(0.4, 0.48);
    b.cuboid(obj, base + Vec3::Y * 0.1, v3(hw * 2.0, 0.33, hd * 2.0), yaw, m);
    b.cuboid(obj, base + Vec3::Y * 0.1 - f.w * (hd - 0.1), v3(hw * 2.0, 0.75, 0.2), yaw, m);
    for s in [-1.0, 1.0] {
        b.cuboid(obj, base + Vec3::Y * 0.1 + f.u * (s * (hw - 0.1)), v3(0.2, 0.5, hd * 2.0), yaw, m);
    }
    let leg = dark_mat(b, 0.3);
    for (sx, sz) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
        b.vcyl(obj, base + f.u * (sx * (hw - 0.08)) + f.w * (sz * (hd - 0.08)), 0.025, 0.1, leg);
    }
    obj
}

fn bed(b: &mut Builder, x: f32, z: f32, yaw: f32, hw: f32) -> u32 {
    let frame_m = wood_mat(b);
    let obj = b.object(class::BED, true, frame_m);
    let f = Frame::yaw(yaw);
    let base = v3(x, 0.0, z);
    let hd = b.rng.range(1.0, 1.05);
    b.cuboid(obj, base, v3(hw * 2.0, 0.3, hd * 2.0), yaw, frame_m);
    let sheet = if b.rng.chance(0.4) { b.tex_mat(TexKind::Fabric, 0.5, Vec3::splat(0.95), 0.0) } else { b.paint_mat(0.0) };
    b.cuboid(obj, base + Vec3::Y * 0.3, v3(hw * 2.0 - 0.04, 0.22, hd * 2.0 - 0.04), yaw, sheet);
    b.cuboid(obj, base - f.w * (hd - 0.04), v3(hw * 2.0, 1.0, 0.08), yaw, frame_m);
    let pm = b.tex_mat(TexKind::Fabric, 0.3, Vec3::splat(1.0), 0.0);
    b.prim(obj, Shape::Ellipsoid { c: base + Vec3::Y * 0.58 - f.w * (hd - 0.3), f, r: v3(hw * 0.7, 0.07, 0.18) }, pm);
    obj
}

fn floor_lamp(b: &mut Builder, x: f32, z: f32) -> u32 {
    let m = dark_mat(b, 0.6);
    let obj = b.object(class::LAMP, true, m);
    let h = b.rng.range(1.3, 1.7);
    let base = v3(x, 0.0, z);
    b.vcyl(obj, base, 0.14, 0.03, m);
    b.vcyl(obj, base, 0.015, h, m);
    let shade = b.tex_mat(TexKind::Fabric, 0.3, v3(0.95, 0.9, 0.8), 0.0);
    let shade_em = {
        let mut s = b.materials[shade as usize];
        s.emit = v3(0.6, 0.5, 0.35);
        b.mat(s)
    };
    b.prim(obj, Shape::Cone { c: base + Vec3::Y * (h - 0.1), f: Frame { u: Vec3::X, v: Vec3::Z, w: Vec3::Y }, r0: 0.2, r1: 0.12, len: 0.25 }, shade_em);
    b.lights.push(Light::Point { pos: base + Vec3::Y * (h - 0.15), col: v3(1.0, 0.8, 0.55) * b.rng.range(0.6, 1.2), radius: 0.05 });
    obj
}

// ------------------------------------------------------------------ rooms

/// Builds the room shell (floor, ceiling, walls, door, windows, pictures, ceiling lights).
/// Returns the room and wall intervals that are occupied.
fn room_shell(b: &mut Builder, w: f32, d: f32, h: f32) -> Room {
    let floor_kind = *b.rng.pick(&[TexKind::Planks, TexKind::Planks, TexKind::Tiles, TexKind::Concrete, TexKind::Marble, TexKind::Fabric, TexKind::Photo]);
    let floor_m = match floor_kind {
        TexKind::Photo => b.photo_mat(b.rng.range(1.5, 4.0), TexKind::Planks),
        TexKind::Planks => b.tex_mat(floor_kind, b.rng.range(1.5, 3.0), Vec3::splat(b.rng.range(0.7, 1.2)), 0.3),
        TexKind::Tiles => b.tex_mat(floor_kind, b.rng.range(0.6, 2.4), Vec3::ONE, 0.4),
        TexKind::Fabric => {
            let (r, g, bl) = *b.rng.pick(&PAINT);
            b.tex_mat(floor_kind, 0.3, v3(r, g, bl).lerp(Vec3::splat(0.5), 0.5), 0.0)
        }
        _ => b.tex_mat(floor_kind, b.rng.range(1.0, 3.0), Vec3::ONE, 0.3),
    };
    let fl = b.object(class::FLOOR, false, floor_m);
    b.prim(fl, Shape::Cuboid { c: v3(w * 0.5, -0.1, d * 0.5), f: Frame::IDENTITY, h: v3(w * 0.5 + 0.2, 0.1, d * 0.5 + 0.2) }, floor_m);
    let ceil_m = b.tex_mat(TexKind::Plaster, 2.0, Vec3::splat(b.rng.range(0.9, 1.1)), 0.0);
    let ce = b.object(class::CEILING, false, ceil_m);
    b.prim(ce, Shape::Cuboid { c: v3(w * 0.5, h + 0.1, d * 0.5), f: Frame::IDENTITY, h: v3(w * 0.5 + 0.2, 0.1, d * 0.5 + 0.2) }, ceil_m);

    let wall_kind = |rng: &mut Rng| *rng.pick(&[TexKind::Plaster, TexKind::Plaster, TexKind::Plaster, TexKind::Brick, TexKind::Tiles, TexKind::Wood, TexKind::Photo]);
    let k = wall_kind(&mut b.rng);
    let mk = |b: &mut Builder, k: TexKind| match k {
        TexKind::Photo => b.photo_mat(b.rng.range(2.0, 4.0), TexKind::Plaster),
        TexKind::Brick => b.tex_mat(k, b.rng.range(1.5, 2.5), Vec3::ONE, 0.05),
        TexKind::Tiles => b.tex_mat(k, b.rng.range(0.6, 1.6), Vec3::ONE, 0.4),
        _ => b.tex_mat(k, b.rng.range(1.5, 3.0), Vec3::ONE, 0.05),
    };
    let main_wall = mk(b, k);
    // Walls: (start corner, direction along, inward normal, length).
    let walls = [
        (v3(0.0, 0.0, 0.0), Vec3::X, Vec3::Z, w),
        (v3(w, 0.0, d), -Vec3::X, -Vec3::Z, w),
        (v3(0.0, 0.0, d), -Vec3::Z, Vec3::X, d),
        (v3(w, 0.0, 0.0), Vec3::Z, -Vec3::X, d),
    ];
    let accent = if b.rng.chance(0.3) { Some(b.rng.index(4)) } else { None };
    let mut occupied: Vec<Vec<(f32, f32)>> = vec![Vec::new(); 4];
    for (i, &(start, along, inward, len)) in walls.iter().enumerate() {
        let m = if accent == Some(i) {
            let k2 = wall_kind(&mut b.rng);
            mk(b, k2)
        } else {
            main_wall
        };
        let ob = b.object(class::WALL, false, m);
        let c = start + along * (len * 0.5) - inward * 0.1 + Vec3::Y * (h * 0.5);
        let f = Frame { u: along, v: Vec3::Y, w: inward };
        b.prim(ob, Shape::Cuboid { c, f, h: v3(len * 0.5 + 0.2, h * 0.5 + 0.2, 0.1) }, m);
    }
    // Door.
    let dw = b.rng.index(4);
    let (start, along, inward, len) = walls[dw];
    if len > 1.6 {
        let width = b.rng.range(0.8, 0.95);
        let s = b.rng.range(0.15, len - width - 0.15);
        let dh = b.rng.range(2.0, 2.1);
        let m = if b.rng.chance(0.6) { wood_mat(b) } else { b.paint_mat(0.2) };
        let door = b.object(class::DOOR, true, m);
        let f = Frame { u: along, v: Vec3::Y, w: inward };
        let c = start + along * (s + width * 0.5) + inward * 0.02 + Vec3::Y * (dh * 0.5);
        b.prim(door, Shape::Cuboid { c, f, h: v3(width * 0.5, dh * 0.5, 0.025) }, m);
        let km = dark_mat(b, 0.9);
        b.sphere(door, start + along * (s + width - 0.08) + inward * 0.06 + Vec3::Y * 1.0, 0.03, km);
        occupied[dw].push((s - 0.1, s + width + 0.1));
        b.landmarks.push(("door".into(), door));
    }
    // Windows.
    let nwin = *b.rng.pick(&[0usize, 1, 1, 1, 2, 2]);
    let out_l = b.rng.range(2.0, 5.0);
    let sky_col = v3(0.75, 0.85, 1.0).lerp(v3(1.0, 0.92, 0.8), b.rng.f32());
    for _ in 0..nwin {
        let wi = b.rng.index(4);
        let (start, along, inward, len) = walls[wi];
        let width = b.rng.range(0.8, 2.0).min(len - 0.4);
        let wh = b.rng.range(1.0, 1.6).min(h - 1.2);
        let sill = b.rng.range(0.7, (h - wh - 0.2).max(0.75));
        let s = b.rng.range(0.2, (len - width - 0.2).max(0.21));
        if occupied[wi].iter().any(|&(a, e)| s < e && s + width > a) {
            continue;
        }
        occupied[wi].push((s - 0.1, s + width + 0.1));
        let glass = if b.rng.chance(0.6) { b.photo_mat(width, TexKind::Plaster) } else { b.tex_mat(TexKind::Plain, 1.0, Vec3::ONE, 0.0) };
        b.materials[glass as usize].emit = sky_col * out_l;
        b.materials[glass as usize].tint = Vec3::ONE;
        let frame_m = if b.rng.chance(0.5) { b.tex_mat(TexKind::Plain, 1.0, Vec3::splat(0.9), 0.3) } else { wood_mat(b) };
        let win = b.object(class::WINDOW, true, frame_m);
        let f = Frame { u: along, v: Vec3::Y, w: inward };
        let c = start + along * (s + width * 0.5) + Vec3::Y * (sill + wh * 0.5);
        b.prim(win, Shape::Cuboid { c: c + inward * 0.005, f, h: v3(width * 0.5, wh * 0.5, 0.01) }, glass);
        let t = 0.05;
        for (du, dv, hu, hv) in [
            (0.0, wh * 0.5, width * 0.5 + t, t * 0.5),
            (0.0, -wh * 0.5, width * 0.5 + t, t),
            (width * 0.5, 0.0, t * 0.5, wh * 0.5),
            (-width * 0.5, 0.0, t * 0.5, wh * 0.5),
            (0.0, 0.0, t * 0.3, wh * 0.5),
        ] {
            b.prim(win, Shape::Cuboid { c: c + along * du + Vec3::Y * dv + inward * 0.03, f, h: v3(hu, hv, 0.03) }, frame_m);
        }
        b.lights.push(Light::Rect { c: c + inward * 0.07, eu: along * (width * 0.5), ev: Vec3::Y * (wh * 0.5), n: inward, col: sky_col * out_l });
        b.landmarks.push(("window".into(), win));
    }
    // Pictures.
    for _ in 0..b.rng.int(0, 3) {
        let wi = b.rng.index(4);
        let (start, along, inward, len) = walls[wi];
        let pw = b.rng.range(0.3, 1.2).min(len * 0.5);
        let s = b.rng.range(0.2, (len - pw - 0.2).max(0.21));
        if occupied[wi].iter().any(|&(a, e)| s < e && s + pw > a) {
            continue;
        }
        occupied[wi].push((s, s + pw));
        let m = b.photo_mat(pw, TexKind::Marble);
        let tex = b.materials[m as usize].tex;
        let aspect = b.bank.textures[tex as usize].aspect();
        let ph = (pw * aspect).min(1.0);
        b.materials[m as usize].scale = (pw, pw);
        b.materials[m as usize].offset = (0.0, aspect);
        let pic = b.object(class::PICTURE, true, m);
        let f = Frame { u: along, v: Vec3::Y, w: inward };
        let cy = b.rng.range(1.3, 1.7).min(h - ph * 0.5 - 0.2);
        // Cuboid uv origin is the lower corner, so the photo maps exactly onto the canvas.
        let c = start + along * (s + pw * 0.5) + inward * 0.015 + Vec3::Y * cy;
        b.prim(pic, Shape::Cuboid { c, f, h: v3(pw * 0.5, ph * 0.5, 0.015) }, m);
    }
    // Ceiling lights.
    let nl = 1 + (w * d / 16.0) as usize;
    let warm = v3(1.0, 0.85, 0.65).lerp(v3(1.0, 0.97, 0.92), b.rng.f32());
    let inten = b.rng.range(1.0, 3.0) * if nwin == 0 { 1.6 } else { 1.0 };
    for _ in 0..nl.min(3) {
        let p = v3(b.rng.range(0.8, w - 0.8), h, b.rng.range(0.8, d - 0.8));
        let em = emissive_mat(b, warm * 4.0);
        let lamp = b.object(class::LAMP, true, em);
        if b.rng.chance(0.5) {
            b.sphere(lamp, p - Vec3::Y * 0.25, 0.12, em);
            b.vcyl(lamp, p - Vec3::Y * 0.14, 0.01, 0.14, em);
        } else {
            b.vcyl(lamp, p - Vec3::Y * 0.06, 0.2, 0.06, em);
        }
        b.lights.push(Light::Point { pos: p - Vec3::Y * 0.45, col: warm * inten, radius: 0.08 });
    }
    Room { w, d, h }
}

/// Places furniture in a room, returning footprints.
fn furnish(b: &mut Builder, r: &Room, count: usize, keep_free: &[Foot]) -> Vec<Foot> {
    let mut feet: Vec<Foot> = Vec::new();
    for _ in 0..count {
        let kind = b.rng.index(12);
        for _attempt in 0..25 {
            // Size of the piece.
            let (hw, hd) = match kind {
                0 | 1 => (b.rng.range(0.4, 0.9), b.rng.range(0.3, 0.5)), // table
                2 | 3 => (0.25, 0.25),                                    // chair
                4 => (b.rng.range(0.3, 0.6), b.rng.range(0.15, 0.2)),    // shelf
                5 => (b.rng.range(0.25, 0.6), b.rng.range(0.2, 0.3)),    // cabinet
                6 => (b.rng.range(0.75, 1.1), 0.48),                      // sofa
                7 => (b.rng.range(0.45, 0.9), 1.05),                      // bed
                8 => (0.2, 0.2),                                          // lamp
                _ => (b.rng.range(0.1, 0.4), b.rng.range(0.1, 0.4)),     // box/ball/cylinder
            };
            let against_wall = matches!(kind, 4..=7) || b.rng.chance(0.35);
            let (x, z, yaw) = if against_wall {
                let wi = b.rng.index(4);
                let gap = 0.02;
                match wi {
                    0 => (b.rng.range(hw, r.w - hw), hd + gap, 0.0),
                    1 => (b.rng.range(hw, r.w - hw), r.d - hd - gap, PI),
                    2 => (hd + gap, b.rng.range(hw, r.d - hw), FRAC_PI_2),
                    _ => (r.w - hd - gap, b.rng.range(hw, r.d - hw), -FRAC_PI_2),
                }
            } else {
                let yaw = if b.rng.chance(0.6) { b.rng.index(4) as f32 * FRAC_PI_2 } else { b.rng.range(0.0, 2.0 * PI) };
                (b.rng.range(0.3, r.w - 0.3), b.rng.range(0.3, r.d - 0.3), yaw)
            };
            let foot = Foot { x, z, hw, hd, yaw };
            // Stay inside the room.
            let room_foot = Foot { x: r.w * 0.5, z: r.d * 0.5, hw: r.w * 0.5, hd: r.d * 0.5, yaw: 0.0 };
            let corners_inside = {
                let f = Frame::yaw(yaw);
                [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)].iter().all(|&(sx, sz)| {
                    let p = v3(x, 0.0, z) + f.u * (sx * hw) + f.w * (sz * hd);
                    p.x > 0.0 && p.x < r.w && p.z > 0.0 && p.z < r.d
                })
            };
            if !corners_inside || !room_foot.overlaps(&foot, 0.0) {
                continue;
            }
            if feet.iter().chain(keep_free.iter()).any(|o| o.overlaps(&foot, 0.08)) {
                continue;
            }
            feet.push(foot);
            match kind {
                0 | 1 => {
                    let height = b.rng.range(0.7, 0.78);
                    let (t, top) = table(b, x, z, yaw, hw, hd, height);
                    let n = b.rng.int(0, 4) as usize;
                    fill_surface(b, t, top, yaw, hw, hd, n, 0.35);
                    // Chairs around the table.
                    for side in [-1.0f32, 1.0] {
                        if b.rng.chance(0.5) {
                            let f = Frame::yaw(yaw);
                            let p = v3(x, 0.0, z) + f.w * (side * (hd + 0.3));
                            let cf = Foot { x: p.x, z: p.z, hw: 0.25, hd: 0.25, yaw };
                            if p.x > 0.3 && p.x < r.w - 0.3 && p.z > 0.3 && p.z < r.d - 0.3 && !feet.iter().chain(keep_free.iter()).any(|o| o.overlaps(&cf, 0.02) && (o.x - x).abs() + (o.z - z).abs() > 1e-4) {
                                chair(b, p.x, p.z, yaw + if side > 0.0 { PI } else { 0.0 });
                                feet.push(cf);
                            }
                        }
                    }
                }
                2 | 3 => {
                    chair(b, x, z, yaw);
                }
                4 => {
                    let height = b.rng.range(1.0, 2.0).min(r.h - 0.3);
                    shelf(b, x, z, yaw, hw, hd, height);
                }
                5 => {
                    let height = b.rng.range(0.5, 1.0);
                    let (c, top) = cabinet(b, x, z, yaw, hw, hd, height);
                    let n = b.rng.int(0, 3) as usize;
                    fill_surface(b, c, top, yaw, hw, hd, n, 0.4);
                }
                6 => {
                    sofa(b, x, z, yaw, hw);
                }
                7 => {
                    bed(b, x, z, yaw, hw);
                }
                8 => {
                    floor_lamp(b, x, z);
                }
                9 => {
                    let m = if b.rng.chance(0.3) { b.photo_mat(hw * 3.0, TexKind::Fabric) } else { b.paint_mat(0.15) };
                    let o = b.object(class::BOX, true, m);
                    let h = b.rng.range(0.2, 0.8);
                    b.cuboid(o, v3(x, 0.0, z), v3(hw * 2.0, h, hd * 2.0), yaw, m);
                    if b.rng.chance(0.3) {
                        let h2 = b.rng.range(0.15, 0.4);
                        let m2 = b.paint_mat(0.15);
                        let o2 = b.object(class::BOX, true, m2);
                        b.objects[o2 as usize].on = Some(o);
                        b.cuboid(o2, v3(x, h, z), v3(hw * 1.4, h2, hd * 1.4), yaw + b.rng.range(-0.3, 0.3), m2);
                    }
                }
                10 => {
                    let rad = hw.min(hd).clamp(0.1, 0.35);
                    let m = b.paint_mat(b.rng.range(0.2, 0.8));
                    let o = b.object(class::SPHERE, true, m);
                    b.sphere(o, v3(x, rad, z), rad, m);
                }
                _ => {
                    let rad = hw.min(hd).clamp(0.1, 0.35);
                    let m = b.paint_mat(b.rng.range(0.1, 0.6));
                    let o = b.object(class::CYLINDER, true, m);
                    b.vcyl(o, v3(x, 0.0, z), rad, b.rng.range(0.3, 0.9), m);
                }
            }
            break;
        }
    }
    // Rug.
    if b.rng.chance(0.35) {
        let m = if b.rng.chance(0.5) { b.photo_mat(2.0, TexKind::Fabric) } else { b.tex_mat(TexKind::Fabric, 0.4, v3(b.rng.f32(), b.rng.f32(), b.rng.f32()) * 0.8 + Vec3::splat(0.15), 0.0) };
        let o = b.object(class::RUG, true, m);
        let (rw, rd) = (b.rng.range(0.6, 1.5).min(r.w * 0.35), b.rng.range(0.5, 1.2).min(r.d * 0.35));
        b.cuboid(o, v3(r.w * 0.5 + b.rng.range(-0.5, 0.5), 0.0, r.d * 0.5 + b.rng.range(-0.5, 0.5)), v3(rw * 2.0, 0.008, rd * 2.0), b.rng.range(-0.3, 0.3), m);
    }
    feet
}

fn indoor_env(b: &mut Builder, ao: f32) -> Env {
    let amb = v3(1.0, 0.95, 0.88) * b.rng.range(0.08, 0.2);
    Env { amb_up: amb, amb_down: amb * 0.6, sky: None, haze_dist: f32::INFINITY, haze_col: Vec3::ZERO, ao_radius: ao }
}

fn yaw_towards(from: Vec3, to: Vec3) -> f32 {
    // Camera looks along -w; Frame::yaw(y).w = (sin y, 0, cos y).
    let d = from - to;
    d.x.atan2(d.z)
}

pub fn indoor(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
    let w = b.rng.range(3.0, 8.0);
    let d = b.rng.range(3.0, 8.0);
    let h = b.rng.range(2.4, 3.2);
    let room = room_shell(b, w, d, h);
    // Keep a free spot for the camera near one side.
    let cam_xz = v3(b.rng.range(0.5, w - 0.5), 0.0, b.rng.range(0.5, d - 0.5));
    let keep = [Foot { x: cam_xz.x, z: cam_xz.z, hw: 0.4, hd: 0.4, yaw: 0.0 }];
    let n = ((w * d) / 3.0) as usize + b.rng.int(1, 4) as usize;
    let feet = furnish(b, &room, n.min(14), &keep);
    let ch = if b.rng.chance(0.8) { b.rng.range(1.1, 1.8) } else { b.rng.range(0.4, 2.3) };
    let pos = v3(cam_xz.x, ch.min(h - 0.2), cam_xz.z);
    // Look at a random piece of furniture or the room centre.
    let target = if !feet.is_empty() && b.rng.chance(0.7) {
        let f = feet[b.rng.index(feet.len())];
        v3(f.x, 0.5, f.z)
    } else {
        v3(w * 0.5, 1.0, d * 0.5)
    };
    let far = if (target - pos).length() < 0.8 { v3(w * 0.5, 1.0, d * 0.5) } else { target };
    let yaw = yaw_towards(pos, far) + b.rng.normal() * 12.0 * DEG;
    let dist = v3(far.x - pos.x, 0.0, far.z - pos.z).length().max(0.5);
    let pitch = ((far.y - pos.y) / dist).atan().clamp(-35.0 * DEG, 10.0 * DEG) + b.rng.normal() * 5.0 * DEG;
    let roll = b.rng.normal() * 2.5 * DEG;
    let cam = Camera::new(pos, yaw, pitch, roll, sample_fov(&mut b.rng), width, height);
    let env = indoor_env(b, 0.6);
    (cam, env)
}

pub fn tabletop(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
    let w = b.rng.range(3.0, 6.0);
    let d = b.rng.range(3.0, 6.0);
    let h = b.rng.range(2.4, 3.0);
    let room = room_shell(b, w, d, h);
    let hw = b.rng.range(0.5, 1.0);
    let hd = b.rng.range(0.35, 0.55);
    let tx = b.rng.range(hw + 0.3, w - hw - 0.3);
    let tz = b.rng.range(0.9, d - 0.9);
    let th = b.rng.range(0.7, 0.78);
    let (t, top) = table(b, tx, tz, 0.0, hw, hd, th);
    b.focus = Some(t);
    let n = b.rng.int(4, 10) as usize;
    fill_surface(b, t, top, 0.0, hw, hd, n, 0.32);
    let keep = [Foot { x: tx, z: tz, hw: hw + 0.6, hd: hd + 0.9, yaw: 0.0 }];
    let nf = b.rng.int(1, 5) as usize;
    furnish(b, &room, nf, &keep);
    // Camera near the +z edge looking at the tabletop.
    let pos = v3(tx + b.rng.range(-hw * 0.7, hw * 0.7), th + b.rng.range(0.15, 0.6), tz + hd + b.rng.range(0.0, 0.35));
    let look = v3(tx + b.rng.range(-hw * 0.4, hw * 0.4), th, tz + b.rng.range(-hd * 0.6, hd * 0.3));
    let yaw = yaw_towards(pos, look) + b.rng.normal() * 5.0 * DEG;
    let dist = v3(look.x - pos.x, 0.0, look.z - pos.z).length().max(0.1);
    let pitch = ((look.y - pos.y) / dist).atan().clamp(-65.0 * DEG, -10.0 * DEG);
    let roll = b.rng.normal() * 3.0 * DEG;
    let cam = Camera::new(pos, yaw, pitch, roll, sample_fov(&mut b.rng), width, height);
    let env = indoor_env(b, 0.15);
    (cam, env)
}

// ------------------------------------------------------------------ outdoor

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

pub fn street(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
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

pub fn terrain(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
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
        SceneKind::Indoor => indoor(b, width, height),
        SceneKind::Tabletop => tabletop(b, width, height),
        _ => {
            if b.rng.chance(0.75) {
                street(b, width, height)
            } else {
                terrain(b, width, height)
            }
        }
    };
    (kind, cam, env)
}
