//! What stands in a room: furniture ([`Furniture`]) and the small objects on its surfaces.

use std::f32::consts::PI;

use super::{Room, dark_mat, furniture_mat, wood_mat};
use crate::geom::Shape;
use crate::math::{Frame, Rng, Vec3, v3};
use crate::scene::{Builder, Light, Material, class};
use crate::texture::TexKind;

/// A rotated rectangle on the floor plane used to avoid overlapping furniture.
#[derive(Clone, Copy, Debug)]
pub(super) struct Foot {
    pub(super) x: f32,
    pub(super) z: f32,
    pub(super) hw: f32,
    pub(super) hd: f32,
    pub(super) yaw: f32,
}

impl Foot {
    fn axes(&self) -> [(f32, f32); 2] {
        let f = Frame::yaw(self.yaw);
        [(f.u.x, f.u.z), (f.w.x, f.w.z)]
    }
    pub(super) fn overlaps(&self, o: &Foot, margin: f32) -> bool {
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

/// A piece of furniture [`super::indoor`] places in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Furniture {
    /// With up to four small items on it and up to two chairs at its long sides.
    Table,
    Chair,
    Shelf,
    /// With up to three small items on it.
    Cabinet,
    Sofa,
    Bed,
    FloorLamp,
    /// Sometimes with a smaller box on it.
    Box,
    Ball,
    Cylinder,
}

impl Furniture {
    /// The draw's odds: tables and chairs twice as often as the rest.
    const DRAW: [Furniture; 12] = [
        Furniture::Table,
        Furniture::Table,
        Furniture::Chair,
        Furniture::Chair,
        Furniture::Shelf,
        Furniture::Cabinet,
        Furniture::Sofa,
        Furniture::Bed,
        Furniture::FloorLamp,
        Furniture::Box,
        Furniture::Ball,
        Furniture::Cylinder,
    ];

    pub(super) fn draw(rng: &mut Rng) -> Furniture {
        Furniture::DRAW[rng.index(Furniture::DRAW.len())]
    }

    /// Half width and half depth of its footprint, in meters (drawn for those that vary).
    pub(super) fn half_size(self, rng: &mut Rng) -> (f32, f32) {
        match self {
            Furniture::Table => (rng.range(0.4, 0.9), rng.range(0.3, 0.5)),
            Furniture::Chair => (0.25, 0.25),
            Furniture::Shelf => (rng.range(0.3, 0.6), rng.range(0.15, 0.2)),
            Furniture::Cabinet => (rng.range(0.25, 0.6), rng.range(0.2, 0.3)),
            Furniture::Sofa => (rng.range(0.75, 1.1), 0.48),
            Furniture::Bed => (rng.range(0.45, 0.9), 1.05),
            Furniture::FloorLamp => (0.2, 0.2),
            Furniture::Box | Furniture::Ball | Furniture::Cylinder => (rng.range(0.1, 0.4), rng.range(0.1, 0.4)),
        }
    }

    /// Whether it always stands with its back to a wall (the others do sometimes).
    pub(super) fn against_wall(self) -> bool {
        matches!(self, Furniture::Shelf | Furniture::Cabinet | Furniture::Sofa | Furniture::Bed)
    }

    /// Builds it on `foot` in `room`; a table's chairs get footprints of their own in `feet`,
    /// clear of `feet` and `keep_free`.
    pub(super) fn build(self, b: &mut Builder, room: &Room, foot: Foot, feet: &mut Vec<Foot>, keep_free: &[Foot]) {
        let Foot { x, z, hw, hd, yaw } = foot;
        match self {
            Furniture::Table => {
                let height = b.rng.range(0.7, 0.78);
                let (t, top) = table(b, x, z, yaw, hw, hd, height);
                let n = b.rng.int(0, 4) as usize;
                fill_surface(b, t, top, yaw, hw, hd, n, 0.35);
                for side in [-1.0f32, 1.0] {
                    if b.rng.chance(0.5) {
                        let f = Frame::yaw(yaw);
                        let p = v3(x, 0.0, z) + f.w * (side * (hd + 0.3));
                        let cf = Foot { x: p.x, z: p.z, hw: 0.25, hd: 0.25, yaw };
                        let inside = p.x > 0.3 && p.x < room.w - 0.3 && p.z > 0.3 && p.z < room.d - 0.3;
                        // The table's own footprint does not count.
                        if inside && !feet.iter().chain(keep_free.iter()).any(|o| o.overlaps(&cf, 0.02) && (o.x - x).abs() + (o.z - z).abs() > 1e-4) {
                            chair(b, p.x, p.z, yaw + if side > 0.0 { PI } else { 0.0 });
                            feet.push(cf);
                        }
                    }
                }
            }
            Furniture::Chair => {
                chair(b, x, z, yaw);
            }
            Furniture::Shelf => {
                let height = b.rng.range(1.0, 2.0).min(room.h - 0.3);
                shelf(b, x, z, yaw, hw, hd, height);
            }
            Furniture::Cabinet => {
                let height = b.rng.range(0.5, 1.0);
                let (c, top) = cabinet(b, x, z, yaw, hw, hd, height);
                let n = b.rng.int(0, 3) as usize;
                fill_surface(b, c, top, yaw, hw, hd, n, 0.4);
            }
            Furniture::Sofa => {
                sofa(b, x, z, yaw, hw);
            }
            Furniture::Bed => {
                bed(b, x, z, yaw, hw);
            }
            Furniture::FloorLamp => {
                floor_lamp(b, x, z);
            }
            Furniture::Box => {
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
            Furniture::Ball => {
                let rad = hw.min(hd).clamp(0.1, 0.35);
                let m = b.paint_mat(b.rng.range(0.2, 0.8));
                let o = b.object(class::SPHERE, true, m);
                b.sphere(o, v3(x, rad, z), rad, m);
            }
            Furniture::Cylinder => {
                let rad = hw.min(hd).clamp(0.1, 0.35);
                let m = b.paint_mat(b.rng.range(0.1, 0.6));
                let o = b.object(class::CYLINDER, true, m);
                b.vcyl(o, v3(x, 0.0, z), rad, b.rng.range(0.3, 0.9), m);
            }
        }
    }
}

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
pub(super) fn fill_surface(b: &mut Builder, support: u32, c: Vec3, yaw: f32, hw: f32, hd: f32, n: usize, max_h: f32) {
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

/// Builds a table; returns (object, top centre, half sizes).
pub(super) fn table(b: &mut Builder, x: f32, z: f32, yaw: f32, hw: f32, hd: f32, height: f32) -> (u32, Vec3) {
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
