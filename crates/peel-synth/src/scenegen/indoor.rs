//! Indoor scenes: a furnished room, or a close-up of a laden table in one.

use std::f32::consts::{FRAC_PI_2, PI};

use super::props::{Foot, Furniture, fill_surface, table};
use super::{DEG, Room, dark_mat, emissive_mat, sample_fov, wood_mat, yaw_towards};
use crate::geom::Shape;
use crate::math::{Frame, Rng, Vec3, v3};
use crate::scene::{Builder, Camera, Env, Light, PAINT, class};
use crate::texture::TexKind;

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
        let piece = Furniture::draw(&mut b.rng);
        for _attempt in 0..25 {
            let (hw, hd) = piece.half_size(&mut b.rng);
            let against_wall = piece.against_wall() || b.rng.chance(0.35);
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
            piece.build(b, r, foot, &mut feet, keep_free);
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

pub(super) fn indoor(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
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

pub(super) fn tabletop(b: &mut Builder, width: u32, height: u32) -> (Camera, Env) {
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
