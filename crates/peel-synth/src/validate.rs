//! Consistency checks of a sample's ground truth (used by the tests and `peel synth` users).

use std::collections::{BTreeMap, BTreeSet};

use crate::Sample;
use crate::scene::class;

/// Figures from [`check_sample`].
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Angles (degrees) between normals recomputed from depth and `normal.npy` on planar pixels.
    pub planar_angles: Vec<f32>,
}

fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

impl Report {
    pub fn median_angle(&self) -> f32 {
        median(&mut self.planar_angles.clone())
    }
}

/// Camera-frame 3D point of pixel (x, y) at z-depth `d`.
pub fn backproject(s: &Sample, x: usize, y: usize, d: f32) -> [f32; 3] {
    let k = &s.meta.intrinsics;
    [(x as f32 + 0.5 - k.cx) / k.fx * d, -(y as f32 + 0.5 - k.cy) / k.fy * d, -d]
}

/// Checks one sample; returns the figures or a description of the first inconsistency.
pub fn check_sample(s: &Sample) -> Result<Report, String> {
    let (w, h) = (s.width as usize, s.height as usize);
    let n = w * h;
    if s.rgb.len() != n * 3 || s.depth.len() != n || s.normal.len() != n * 3 || s.semantic.len() != n || s.instance.len() != n {
        return Err("array sizes do not match width x height".into());
    }
    let m = &s.meta;
    if m.width as usize != w || m.height as usize != h {
        return Err("meta size differs".into());
    }
    let k = &m.intrinsics;
    if (k.cx - w as f32 / 2.0).abs() > 1e-3 || (k.cy - h as f32 / 2.0).abs() > 1e-3 || k.fx.is_nan() || k.fx <= 0.0 || (k.fx - k.fy).abs() > 1e-3 {
        return Err(format!("odd intrinsics {k:?}"));
    }
    if !(34.9..=95.1).contains(&m.camera.fov_x_deg) {
        return Err(format!("horizontal fov {} outside 35..95", m.camera.fov_x_deg));
    }
    // Depth finite exactly off the sky; instance 0 exactly on the sky; unit normals facing the camera.
    for i in 0..n {
        let sky = s.semantic[i] == class::SKY;
        let d = s.depth[i];
        if sky != d.is_infinite() || !(sky || d.is_finite() && d > 0.0) {
            return Err(format!("pixel {i}: class {} with depth {d}", s.semantic[i]));
        }
        if sky != (s.instance[i] == 0) {
            return Err(format!("pixel {i}: sky={sky} but instance {}", s.instance[i]));
        }
        if (s.semantic[i] as usize) >= m.classes.len() {
            return Err(format!("pixel {i}: class id {} has no name", s.semantic[i]));
        }
        let nv = &s.normal[3 * i..3 * i + 3];
        if !sky {
            let len = (nv[0] * nv[0] + nv[1] * nv[1] + nv[2] * nv[2]).sqrt();
            let p = backproject(s, i % w, i / w, d);
            let facing = nv[0] * p[0] + nv[1] * p[1] + nv[2] * p[2];
            if (len - 1.0).abs() > 1e-3 || facing > 1e-4 * d {
                return Err(format!("pixel {i}: normal {nv:?} not unit or facing away"));
            }
        }
    }
    // Instances: every id in the image is in meta, with its pixel count, bbox and class.
    let mut seen: BTreeMap<u16, (u32, [u32; 4], u8, f64)> = BTreeMap::new();
    for (i, &id) in s.instance.iter().enumerate() {
        if id == 0 {
            continue;
        }
        let (x, y) = ((i % w) as u32, (i / w) as u32);
        let e = seen.entry(id).or_insert((0, [u32::MAX, u32::MAX, 0, 0], s.semantic[i], 0.0));
        e.0 += 1;
        e.1 = [e.1[0].min(x), e.1[1].min(y), e.1[2].max(x + 1), e.1[3].max(y + 1)];
        e.3 += x as f64 + 0.5;
        if e.2 != s.semantic[i] {
            return Err(format!("instance {id} spans classes {} and {}", e.2, s.semantic[i]));
        }
    }
    let meta_ids: BTreeMap<u16, &crate::InstanceInfo> = m.instances.iter().map(|i| (i.id, i)).collect();
    if meta_ids.len() != m.instances.len() {
        return Err("duplicate instance ids in meta".into());
    }
    for i in &m.instances {
        if i.position.iter().chain(i.size.iter()).any(|v| !v.is_finite()) {
            return Err(format!("instance {}: non-finite position or size", i.id));
        }
    }
    for (id, (count, bb, cls, _)) in &seen {
        let Some(info) = meta_ids.get(id) else { return Err(format!("instance {id} is not in meta.json")) };
        if info.pixels != *count || info.bbox != *bb || info.class_id != *cls || m.classes[*cls as usize] != info.class {
            return Err(format!("instance {id}: meta {info:?} disagrees with the image ({count} px, {bb:?}, class {cls})"));
        }
    }
    if let Some(id) = meta_ids.keys().find(|id| !seen.contains_key(id)) {
        return Err(format!("meta.json lists instance {id} that is not visible"));
    }
    // Referring expressions.
    if m.expressions.len() < 3 {
        return Err(format!("only {} expressions", m.expressions.len()));
    }
    let centroid = |id: u16| seen[&id].3 / seen[&id].0 as f64;
    for e in &m.expressions {
        if e.instance_ids.is_empty() {
            return Err(format!("{:?} denotes nothing", e.text));
        }
        let mut ids = BTreeSet::new();
        for id in &e.instance_ids {
            let Some(info) = meta_ids.get(id) else { return Err(format!("{:?}: instance {id} not visible", e.text)) };
            if info.class != e.class || !e.text.contains(&*info.class) && !e.text.contains(&crate::scene::plural(&info.class)) {
                return Err(format!("{:?}: instance {id} is a {}", e.text, info.class));
            }
            if info.pixels < m.min_expression_pixels {
                return Err(format!("{:?}: instance {id} is too small to refer to", e.text));
            }
            ids.insert(*id);
        }
        let salient: Vec<&&crate::InstanceInfo> =
            meta_ids.values().filter(|i| i.class == e.class && i.thing && i.pixels >= m.min_expression_pixels).collect();
        match e.kind.as_str() {
            "category" | "unique" => {
                let all: BTreeSet<u16> = salient.iter().map(|i| i.id).collect();
                if all != ids {
                    return Err(format!("{:?} denotes {ids:?}, but the visible {} are {all:?}", e.text, e.class));
                }
            }
            "attribute" => {
                for id in &ids {
                    if !e.text.contains(&format!(" {} ", meta_ids[id].colour)) {
                        return Err(format!("{:?}: instance {id} is {}", e.text, meta_ids[id].colour));
                    }
                }
                let col_all: BTreeSet<u16> = salient.iter().filter(|i| e.text.contains(&format!(" {} ", i.colour))).map(|i| i.id).collect();
                if col_all != ids {
                    return Err(format!("{:?} denotes {ids:?} but matching instances are {col_all:?}", e.text));
                }
            }
            "ordinal" => {
                let mut order: Vec<(f64, u16)> = salient.iter().map(|i| (centroid(i.id), i.id)).collect();
                order.sort_by(|a, b| a.0.total_cmp(&b.0));
                let pos = order.iter().position(|o| ids.contains(&o.1)).unwrap_or(usize::MAX);
                let t = &e.text;
                let expect = if t.contains("leftmost") || t.ends_with("on the left") {
                    0
                } else if t.contains("rightmost") || t.ends_with("on the right") {
                    order.len() - 1
                } else {
                    let k = ["first", "second", "third", "fourth", "fifth"].iter().position(|o| t.contains(o)).unwrap_or(99);
                    if t.ends_with("from the left") { k } else { order.len().wrapping_sub(1 + k) }
                };
                if pos != expect || ids.len() != 1 {
                    return Err(format!("{t:?}: instance is at position {pos} of {order:?}"));
                }
            }
            _ => {}
        }
    }
    // Normals from depth on planar pixels (same instance and identical normals in the 3x3 window).
    let mut angles = Vec::new();
    let nrm = |i: usize| [s.normal[3 * i], s.normal[3 * i + 1], s.normal[3 * i + 2]];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let i = y * w + x;
            if s.instance[i] == 0 {
                continue;
            }
            let n0 = nrm(i);
            let planar = (-1i64..=1).all(|dy| {
                (-1i64..=1).all(|dx| {
                    let j = ((y as i64 + dy) as usize) * w + (x as i64 + dx) as usize;
                    let nj = nrm(j);
                    s.instance[j] == s.instance[i] && (nj[0] - n0[0]).abs() + (nj[1] - n0[1]).abs() + (nj[2] - n0[2]).abs() < 1e-4
                })
            });
            if !planar {
                continue;
            }
            let p = |xx: usize, yy: usize| backproject(s, xx, yy, s.depth[yy * w + xx]);
            let (a, b) = (p(x + 1, y), p(x - 1, y));
            let (c, d) = (p(x, y - 1), p(x, y + 1));
            let dx = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
            let dy = [c[0] - d[0], c[1] - d[1], c[2] - d[2]];
            let cr = [dx[1] * dy[2] - dx[2] * dy[1], dx[2] * dy[0] - dx[0] * dy[2], dx[0] * dy[1] - dx[1] * dy[0]];
            let l = (cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2]).sqrt();
            if l.is_nan() || l <= 0.0 {
                continue;
            }
            let cos = ((cr[0] * n0[0] + cr[1] * n0[1] + cr[2] * n0[2]) / l).clamp(-1.0, 1.0);
            angles.push(cos.acos().to_degrees());
        }
    }
    Ok(Report { planar_angles: angles })
}
