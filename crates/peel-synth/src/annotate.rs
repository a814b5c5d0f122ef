//! Labels from the rendered frame: instances, classes, metadata and referring expressions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::math::{Rng, Vec3};
use crate::render::Frame;
use crate::scene::{CLASSES, Scene, class, plural};
use crate::texture::linear_to_srgb;

/// Pinhole intrinsics in pixels. A pixel (u, v) (column, row) has its centre at (u + 0.5, v + 0.5).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Intrinsics {
    pub fx: f32,
    pub fy: f32,
    pub cx: f32,
    pub cy: f32,
}

/// Camera pose summary.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CameraInfo {
    pub height_m: f32,
    pub pitch_deg: f32,
    pub roll_deg: f32,
    pub fov_x_deg: f32,
    pub fov_y_deg: f32,
}

/// One visible instance.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InstanceInfo {
    /// Id as written in `instance.png` (1..).
    pub id: u16,
    pub class: String,
    pub class_id: u8,
    /// Countable object (true) or surface such as wall, floor, road (false).
    pub thing: bool,
    /// Colour name of its albedo.
    pub colour: String,
    /// Pixel bounding box `[x0, y0, x1, y1]`, inclusive-exclusive.
    pub bbox: [u32; 4],
    pub pixels: u32,
    /// Centre of its 3D bounding box in the camera frame (meters); for unbounded surfaces (the
    /// ground plane) the mean of its visible points.
    pub position: [f32; 3],
    /// Extent of its world-axis 3D bounding box (meters); for unbounded surfaces, the extent of
    /// its visible points along the camera axes.
    pub size: [f32; 3],
    /// Id of the instance it stands on, if that one is visible.
    pub on: Option<u16>,
}

/// A referring expression and the instances it denotes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Expression {
    pub text: String,
    /// "category", "unique", "attribute", "ordinal", "size", "distance", "relation", "support".
    pub kind: String,
    /// Class of the referred instances.
    pub class: String,
    pub instance_ids: Vec<u16>,
}

/// Everything in `meta.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub format: String,
    pub id: String,
    pub seed: u64,
    pub index: u64,
    pub kind: String,
    pub width: u32,
    pub height: u32,
    pub intrinsics: Intrinsics,
    pub camera: CameraInfo,
    /// Class names indexed by the ids in `semantic.png`.
    pub classes: Vec<String>,
    pub instances: Vec<InstanceInfo>,
    /// Instances smaller than this many pixels are never referred to.
    pub min_expression_pixels: u32,
    pub expressions: Vec<Expression>,
}

/// Colour name of a linear RGB albedo.
pub fn colour_name(c: Vec3) -> &'static str {
    let (r, g, b) = (linear_to_srgb(c.x), linear_to_srgb(c.y), linear_to_srgb(c.z));
    let mx = r.max(g).max(b);
    let mn = r.min(g).min(b);
    let v = mx;
    let s = if mx > 0.0 { (mx - mn) / mx } else { 0.0 };
    if v < 0.2 {
        return "black";
    }
    if s < 0.2 {
        return if v > 0.75 { "white" } else if v < 0.3 { "black" } else { "gray" };
    }
    let hue = if mx == mn {
        0.0
    } else if mx == r {
        60.0 * ((g - b) / (mx - mn)).rem_euclid(6.0)
    } else if mx == g {
        60.0 * ((b - r) / (mx - mn) + 2.0)
    } else {
        60.0 * ((r - g) / (mx - mn) + 4.0)
    };
    if !(15.0..345.0).contains(&hue) {
        if s < 0.55 && v > 0.7 { "pink" } else if v < 0.55 && s < 0.75 { "brown" } else { "red" }
    } else if hue < 45.0 {
        if v < 0.65 { "brown" } else { "orange" }
    } else if hue < 70.0 {
        if v < 0.55 { "brown" } else { "yellow" }
    } else if hue < 165.0 {
        "green"
    } else if hue < 255.0 {
        "blue"
    } else if hue < 290.0 {
        "purple"
    } else {
        "pink"
    }
}

/// Per-instance data before serialisation.
struct Inst {
    info: InstanceInfo,
    cx_img: f32,
    depth: f32,
    volume: f32,
    world: Vec3,
}

const ORDINALS: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];

/// Computes label images and metadata. Returns (semantic, instance, meta) or None if the scene has
/// fewer than `min_expressions` referring expressions.
pub fn annotate(
    scene: &Scene,
    frame: &Frame,
    seed: u64,
    index: u64,
    rng: &mut Rng,
    min_expressions: usize,
) -> Option<(Vec<u8>, Vec<u16>, Meta)> {
    let (w, h) = (frame.width, frame.height);
    let nobj = scene.objects.len();
    let mut count = vec![0u32; nobj];
    let mut bbox = vec![[u32::MAX, u32::MAX, 0u32, 0u32]; nobj];
    let mut sumx = vec![0f64; nobj];
    // Visible 3D points (camera frame) of objects without a bounded shape, e.g. the ground plane.
    let unbounded: Vec<bool> = scene.objects.iter().map(|o| !(o.bb.lo.x.is_finite() && o.bb.hi.x.is_finite())).collect();
    let mut pts = vec![(Vec3::ZERO, Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY)); nobj];
    let cam = &scene.camera;
    for (i, &o) in frame.object.iter().enumerate() {
        if o == u32::MAX {
            continue;
        }
        let (x, y) = ((i % w) as u32, (i / w) as u32);
        let k = o as usize;
        count[k] += 1;
        sumx[k] += x as f64 + 0.5;
        if unbounded[k] {
            let d = frame.depth[i];
            let p = Vec3 { x: (x as f32 + 0.5 - cam.cx) / cam.fx * d, y: -(y as f32 + 0.5 - cam.cy) / cam.fy * d, z: -d };
            let e = &mut pts[k];
            e.0 += p;
            e.1 = e.1.min(p);
            e.2 = e.2.max(p);
        }
        let b = &mut bbox[k];
        b[0] = b[0].min(x);
        b[1] = b[1].min(y);
        b[2] = b[2].max(x + 1);
        b[3] = b[3].max(y + 1);
    }
    // Visible objects get ids 1.. in scene order.
    let mut id_of = vec![0u16; nobj];
    let mut next = 1u32;
    for k in 0..nobj {
        if count[k] > 0 && next <= u16::MAX as u32 {
            id_of[k] = next as u16;
            next += 1;
        }
    }
    let semantic: Vec<u8> = frame.object.iter().map(|&o| if o == u32::MAX { class::SKY } else { scene.objects[o as usize].class }).collect();
    let instance: Vec<u16> = frame.object.iter().map(|&o| if o == u32::MAX { 0 } else { id_of[o as usize] }).collect();
    let mut insts: Vec<Inst> = Vec::new();
    for k in 0..nobj {
        if id_of[k] == 0 {
            continue;
        }
        let o = &scene.objects[k];
        let (centre, pc, size) = if unbounded[k] {
            // Extent of the visible part, in camera axes.
            let pc = pts[k].0 / count[k] as f32;
            let world = cam.pos + cam.f.to_world(pc);
            (world, pc, pts[k].2 - pts[k].1)
        } else {
            (o.bb.centre(), cam.to_cam(o.bb.centre()), o.bb.hi - o.bb.lo)
        };
        let on = o.on.map(|s| id_of[s as usize]).filter(|&i| i > 0);
        insts.push(Inst {
            info: InstanceInfo {
                id: id_of[k],
                class: CLASSES[o.class as usize].to_string(),
                class_id: o.class,
                thing: o.thing,
                colour: colour_name(o.albedo).to_string(),
                bbox: bbox[k],
                pixels: count[k],
                position: pc.to_array(),
                size: size.to_array(),
                on,
            },
            cx_img: (sumx[k] / count[k] as f64) as f32,
            depth: -pc.z,
            volume: size.x * size.y * size.z,
            world: centre,
        });
    }
    let min_px = ((w * h) as f32 * 0.002).max(12.0) as u32;
    let landmarks: Vec<(String, u16, Vec3)> = scene
        .landmarks
        .iter()
        .filter_map(|(name, o)| {
            let id = id_of[*o as usize];
            (id > 0 && count[*o as usize] >= min_px).then(|| (name.clone(), id, scene.objects[*o as usize].bb.centre()))
        })
        .collect();
    if let Some(f) = scene.focus.filter(|_| min_expressions > 0) {
        let on_focus = (0..nobj).filter(|&k| scene.objects[k].on == Some(f) && count[k] >= min_px).count();
        if on_focus < 2 {
            return None;
        }
    }
    let mut exprs = expressions(&insts, &landmarks, min_px, w as f32);
    if exprs.len() < min_expressions {
        return None;
    }
    // Deterministic selection: one of each kind first, then the rest, at most 8.
    rng.shuffle(&mut exprs);
    let mut chosen: Vec<Expression> = Vec::new();
    let mut kinds_seen: Vec<String> = Vec::new();
    for e in &exprs {
        if !kinds_seen.contains(&e.kind) {
            kinds_seen.push(e.kind.clone());
            chosen.push(e.clone());
        }
    }
    for e in &exprs {
        if chosen.len() >= 8 {
            break;
        }
        if !chosen.iter().any(|c| c.text == e.text) {
            chosen.push(e.clone());
        }
    }
    chosen.truncate(8);
    let meta = Meta {
        format: "peel-synth/1".into(),
        id: format!("{index:06}"),
        seed,
        index,
        kind: scene.kind.name().into(),
        width: w as u32,
        height: h as u32,
        intrinsics: Intrinsics { fx: cam.fx, fy: cam.fy, cx: cam.cx, cy: cam.cy },
        camera: CameraInfo {
            height_m: cam.pos.y,
            pitch_deg: cam.pitch.to_degrees(),
            roll_deg: cam.roll.to_degrees(),
            fov_x_deg: cam.hfov().to_degrees(),
            fov_y_deg: cam.vfov().to_degrees(),
        },
        classes: CLASSES.iter().map(|s| s.to_string()).collect(),
        instances: insts.into_iter().map(|i| i.info).collect(),
        min_expression_pixels: min_px,
        expressions: chosen,
    };
    Some((semantic, instance, meta))
}

fn expr(text: String, kind: &str, class: &str, mut ids: Vec<u16>) -> Expression {
    ids.sort_unstable();
    Expression { text, kind: kind.into(), class: class.into(), instance_ids: ids }
}

/// All candidate expressions over the salient things.
fn expressions(insts: &[Inst], landmarks: &[(String, u16, Vec3)], min_px: u32, width: f32) -> Vec<Expression> {
    let mut out = Vec::new();
    let mut by_class: BTreeMap<&str, Vec<&Inst>> = BTreeMap::new();
    for i in insts {
        if i.info.thing && i.info.pixels >= min_px {
            by_class.entry(i.info.class.as_str()).or_default().push(i);
        }
    }
    let unique_classes: Vec<(&str, &Inst)> = by_class.iter().filter(|(_, v)| v.len() == 1).map(|(k, v)| (*k, v[0])).collect();
    for (&cls, members) in &by_class {
        let pl = plural(cls);
        let ids: Vec<u16> = members.iter().map(|i| i.info.id).collect();
        if members.len() >= 2 {
            out.push(expr(format!("all the {pl}"), "category", cls, ids.clone()));
        } else {
            out.push(expr(format!("the {cls}"), "unique", cls, ids.clone()));
        }
        if members.len() < 2 {
            continue;
        }
        // Colour.
        let mut by_col: BTreeMap<&str, Vec<&Inst>> = BTreeMap::new();
        for m in members {
            by_col.entry(m.info.colour.as_str()).or_default().push(m);
        }
        if by_col.len() >= 2 {
            for (col, ms) in &by_col {
                let ids: Vec<u16> = ms.iter().map(|i| i.info.id).collect();
                if ms.len() == 1 {
                    out.push(expr(format!("the {col} {cls}"), "attribute", cls, ids));
                } else {
                    out.push(expr(format!("all the {col} {pl}"), "attribute", cls, ids));
                }
            }
        }
        // Ordinal from the left/right, when clearly separated.
        if members.len() <= 5 {
            let mut sorted: Vec<&&Inst> = members.iter().collect();
            sorted.sort_by(|a, b| a.cx_img.total_cmp(&b.cx_img));
            let separated = sorted.windows(2).all(|p| p[1].cx_img - p[0].cx_img > 0.05 * width);
            if separated {
                let n = sorted.len();
                for (k, m) in sorted.iter().enumerate() {
                    let text = if n == 2 {
                        format!("the {cls} on the {}", if k == 0 { "left" } else { "right" })
                    } else if k == 0 {
                        format!("the leftmost {cls}")
                    } else if k == n - 1 {
                        format!("the rightmost {cls}")
                    } else if k <= n / 2 {
                        format!("the {} {cls} from the left", ORDINALS[k])
                    } else {
                        format!("the {} {cls} from the right", ORDINALS[n - 1 - k])
                    };
                    out.push(expr(text, "ordinal", cls, vec![m.info.id]));
                }
            }
        }
        // Size.
        let mut by_vol: Vec<&&Inst> = members.iter().collect();
        by_vol.sort_by(|a, b| b.volume.total_cmp(&a.volume));
        if by_vol[0].volume > 1.5 * by_vol[1].volume {
            out.push(expr(format!("the largest {cls}"), "size", cls, vec![by_vol[0].info.id]));
        }
        let n = by_vol.len();
        if by_vol[n - 1].volume * 1.5 < by_vol[n - 2].volume {
            out.push(expr(format!("the smallest {cls}"), "size", cls, vec![by_vol[n - 1].info.id]));
        }
        // Distance to the camera.
        let mut by_d: Vec<&&Inst> = members.iter().collect();
        by_d.sort_by(|a, b| a.depth.total_cmp(&b.depth));
        if by_d[0].depth < 0.8 * by_d[1].depth {
            out.push(expr(format!("the {cls} closest to the camera"), "distance", cls, vec![by_d[0].info.id]));
        }
        if by_d[n - 1].depth * 0.8 > by_d[n - 2].depth {
            out.push(expr(format!("the farthest {cls}"), "distance", cls, vec![by_d[n - 1].info.id]));
        }
        // Relations to landmarks and unique objects, optionally with colour.
        let mut refs: Vec<(String, u16, Vec3)> = Vec::new();
        for (name, id, pos) in landmarks {
            if landmarks.iter().filter(|l| &l.0 == name).count() == 1 {
                refs.push((name.clone(), *id, *pos));
            }
        }
        for (ucls, ui) in &unique_classes {
            if !refs.iter().any(|r| r.0 == *ucls) {
                refs.push((ucls.to_string(), ui.info.id, ui.world));
            }
        }
        for (rname, rid, rpos) in &refs {
            let mut groups: Vec<(String, Vec<&Inst>)> = vec![(cls.to_string(), members.to_vec())];
            for (col, ms) in &by_col {
                if ms.len() >= 2 && by_col.len() >= 2 {
                    groups.push((format!("{col} {cls}"), ms.clone()));
                }
            }
            for (noun, ms) in groups {
                let mut by_r: Vec<(f32, &Inst)> = ms.iter().filter(|m| m.info.id != *rid).map(|m| ((m.world - *rpos).length(), *m)).collect();
                if by_r.len() < 2 {
                    continue;
                }
                by_r.sort_by(|a, b| a.0.total_cmp(&b.0));
                if by_r[0].0 < 0.7 * by_r[1].0 {
                    out.push(expr(format!("the {noun} nearest to the {rname}"), "relation", cls, vec![by_r[0].1.info.id]));
                }
            }
        }
    }
    // Support: "the books on the shelf" when the support is unique among visible things.
    for (ucls, ui) in &unique_classes {
        let mut on_it: BTreeMap<&str, Vec<u16>> = BTreeMap::new();
        for i in insts {
            if i.info.thing && i.info.pixels >= min_px && i.info.on == Some(ui.info.id) {
                on_it.entry(i.info.class.as_str()).or_default().push(i.info.id);
            }
        }
        for (cls, ids) in on_it {
            let noun = if ids.len() == 1 { format!("the {cls}") } else { format!("the {}", plural(cls)) };
            out.push(expr(format!("{noun} on the {ucls}"), "support", cls, ids));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::v3;
    use crate::scene::PAINT;

    #[test]
    fn paint_colours_have_their_names() {
        let names = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "gray"];
        for ((r, g, b), name) in PAINT.iter().zip(names) {
            for j in [0.85, 1.0, 1.15] {
                let c = v3(*r, *g, *b) * j;
                assert_eq!(colour_name(c), name, "{c:?}");
            }
        }
    }
}
