//! Analytic primitives, ray intersection and a bounding volume hierarchy.

use crate::math::{Frame, Vec3, v3};

#[derive(Clone, Copy, Debug)]
pub struct Ray {
    pub o: Vec3,
    pub d: Vec3,
}

/// Shape of a primitive. All oriented shapes carry an orthonormal frame.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Infinite plane through `p` with unit normal `n`; `f` gives texture axes.
    Plane { p: Vec3, f: Frame },
    /// Oriented box: centre, frame, half extents along the frame axes.
    Cuboid { c: Vec3, f: Frame, h: Vec3 },
    /// Ellipsoid (sphere when radii are equal).
    Ellipsoid { c: Vec3, f: Frame, r: Vec3 },
    /// Capped cylinder: base centre, frame (axis = `f.w`), radius, height.
    Cylinder { c: Vec3, f: Frame, r: f32, len: f32 },
    /// Capped cone/frustum along `f.w` from radius `r0` at the base to `r1` at `len`.
    Cone { c: Vec3, f: Frame, r0: f32, r1: f32, len: f32 },
}

/// Result of a ray/primitive intersection.
#[derive(Clone, Copy, Debug)]
pub struct Hit {
    pub t: f32,
    /// Unit geometric normal, facing outward (not yet flipped towards the ray).
    pub n: Vec3,
    /// Surface coordinates in meters, for texturing.
    pub uv: (f32, f32),
}

#[derive(Clone, Copy, Debug)]
pub struct Aabb {
    pub lo: Vec3,
    pub hi: Vec3,
}

impl Aabb {
    pub const EMPTY: Aabb = Aabb { lo: Vec3::splat_const(f32::INFINITY), hi: Vec3::splat_const(f32::NEG_INFINITY) };
    pub fn union(self, o: Aabb) -> Aabb {
        Aabb { lo: self.lo.min(o.lo), hi: self.hi.max(o.hi) }
    }
    pub fn centre(&self) -> Vec3 {
        (self.lo + self.hi) * 0.5
    }
    #[inline]
    fn hit(&self, o: Vec3, inv: Vec3, tmax: f32) -> bool {
        let t0 = (self.lo - o).cmul(inv);
        let t1 = (self.hi - o).cmul(inv);
        let tn = t0.min(t1).max_elem().max(0.0);
        let tf = t0.max(t1);
        let tf = tf.x.min(tf.y).min(tf.z).min(tmax);
        tn <= tf
    }
}

impl Vec3 {
    pub const fn splat_const(a: f32) -> Vec3 {
        v3(a, a, a)
    }
}

fn frame_extent(f: &Frame, h: Vec3) -> Vec3 {
    f.u.abs() * h.x + f.v.abs() * h.y + f.w.abs() * h.z
}

impl Shape {
    /// World bounding box, or `None` for unbounded shapes.
    pub fn aabb(&self) -> Option<Aabb> {
        match *self {
            Shape::Plane { .. } => None,
            Shape::Cuboid { c, f, h } => {
                let e = frame_extent(&f, h);
                Some(Aabb { lo: c - e, hi: c + e })
            }
            Shape::Ellipsoid { c, f, r } => {
                let e = frame_extent(&f, r);
                Some(Aabb { lo: c - e, hi: c + e })
            }
            Shape::Cylinder { c, f, r, len } => {
                let mid = c + f.w * (len * 0.5);
                let e = frame_extent(&f, v3(r, r, len * 0.5));
                Some(Aabb { lo: mid - e, hi: mid + e })
            }
            Shape::Cone { c, f, r0, r1, len } => {
                let r = r0.max(r1);
                let mid = c + f.w * (len * 0.5);
                let e = frame_extent(&f, v3(r, r, len * 0.5));
                Some(Aabb { lo: mid - e, hi: mid + e })
            }
        }
    }

    /// Nearest intersection with t in (tmin, tmax).
    pub fn intersect(&self, ray: &Ray, tmin: f32, tmax: f32) -> Option<Hit> {
        match *self {
            Shape::Plane { p, f } => {
                let n = f.v;
                let dn = ray.d.dot(n);
                if dn.abs() < 1e-9 {
                    return None;
                }
                let t = (p - ray.o).dot(n) / dn;
                if t <= tmin || t >= tmax {
                    return None;
                }
                let q = ray.o + ray.d * t - p;
                Some(Hit { t, n, uv: (q.dot(f.u), q.dot(f.w)) })
            }
            Shape::Cuboid { c, f, h } => {
                let o = f.to_local(ray.o - c);
                let d = f.to_local(ray.d);
                let mut tn = tmin;
                let mut tf = tmax;
                let mut axis_n = 3usize;
                let mut sign_n = 0.0f32;
                for a in 0..3 {
                    let (oa, da, ha) = (o[a], d[a], h[a]);
                    if da.abs() < 1e-12 {
                        if oa.abs() > ha {
                            return None;
                        }
                        continue;
                    }
                    let inv = 1.0 / da;
                    let mut t0 = (-ha - oa) * inv;
                    let mut t1 = (ha - oa) * inv;
                    let mut s = -1.0;
                    if t0 > t1 {
                        std::mem::swap(&mut t0, &mut t1);
                        s = 1.0;
                    }
                    if t0 > tn {
                        tn = t0;
                        axis_n = a;
                        sign_n = s;
                    }
                    if t1 < tf {
                        tf = t1;
                    }
                    if tn > tf {
                        return None;
                    }
                }
                let (t, axis, sign) = if axis_n < 3 {
                    (tn, axis_n, sign_n)
                } else {
                    // Ray starts inside: exit face.
                    let mut best = (f32::INFINITY, 0usize, 1.0f32);
                    for a in 0..3 {
                        if d[a].abs() < 1e-12 {
                            continue;
                        }
                        let s = d[a].signum();
                        let t = (s * h[a] - o[a]) / d[a];
                        if t < best.0 {
                            best = (t, a, s);
                        }
                    }
                    best
                };
                if t <= tmin || t >= tmax {
                    return None;
                }
                let q = o + d * t;
                let (n, uv) = match axis {
                    0 => (f.u * sign, (q.z + h.z, q.y + h.y)),
                    1 => (f.v * sign, (q.x + h.x, q.z + h.z)),
                    _ => (f.w * sign, (q.x + h.x, q.y + h.y)),
                };
                Some(Hit { t, n, uv })
            }
            Shape::Ellipsoid { c, f, r } => {
                let o = f.to_local(ray.o - c);
                let d = f.to_local(ray.d);
                let os = v3(o.x / r.x, o.y / r.y, o.z / r.z);
                let ds = v3(d.x / r.x, d.y / r.y, d.z / r.z);
                let a = ds.dot(ds);
                let b = os.dot(ds);
                let cc = os.dot(os) - 1.0;
                let disc = b * b - a * cc;
                if disc < 0.0 {
                    return None;
                }
                let sq = disc.sqrt();
                let mut t = (-b - sq) / a;
                if t <= tmin {
                    t = (-b + sq) / a;
                }
                if t <= tmin || t >= tmax {
                    return None;
                }
                let q = o + d * t;
                let nl = v3(q.x / (r.x * r.x), q.y / (r.y * r.y), q.z / (r.z * r.z));
                let n = f.to_world(nl).normalize();
                let rm = (r.x + r.y + r.z) / 3.0;
                let qs = v3(q.x / r.x, q.y / r.y, q.z / r.z);
                let u = qs.z.atan2(qs.x) * rm;
                let vv = qs.y.clamp(-1.0, 1.0).asin() * rm;
                Some(Hit { t, n, uv: (u, vv) })
            }
            Shape::Cylinder { c, f, r, len } => cone_hit(ray, c, &f, r, r, len, tmin, tmax),
            Shape::Cone { c, f, r0, r1, len } => cone_hit(ray, c, &f, r0, r1, len, tmin, tmax),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn cone_hit(ray: &Ray, c: Vec3, f: &Frame, r0: f32, r1: f32, len: f32, tmin: f32, tmax: f32) -> Option<Hit> {
    let o = f.to_local(ray.o - c);
    let d = f.to_local(ray.d);
    let k = (r1 - r0) / len; // radius slope
    let mut best: Option<(f32, Vec3, (f32, f32))> = None;
    // Side: x^2 + y^2 = (r0 + k z)^2
    let rz = r0 + k * o.z;
    let a = d.x * d.x + d.y * d.y - k * k * d.z * d.z;
    let b = o.x * d.x + o.y * d.y - rz * k * d.z;
    let cc = o.x * o.x + o.y * o.y - rz * rz;
    if a.abs() > 1e-12 {
        let disc = b * b - a * cc;
        if disc >= 0.0 {
            let sq = disc.sqrt();
            for t in [(-b - sq) / a, (-b + sq) / a] {
                if t > tmin && t < tmax && best.is_none_or(|bb| t < bb.0) {
                    let q = o + d * t;
                    let rr = r0 + k * q.z;
                    if q.z >= 0.0 && q.z <= len && rr > 0.0 {
                        let nl = v3(q.x, q.y, -k * rr).normalize();
                        let ang = q.y.atan2(q.x);
                        best = Some((t, f.to_world(nl), (ang * rr.max(0.02), q.z)));
                    }
                }
            }
        }
    }
    // Caps.
    if d.z.abs() > 1e-12 {
        for (z, rad, s) in [(0.0, r0, -1.0f32), (len, r1, 1.0)] {
            if rad <= 0.0 {
                continue;
            }
            let t = (z - o.z) / d.z;
            if t > tmin && t < tmax && best.is_none_or(|bb| t < bb.0) {
                let q = o + d * t;
                if q.x * q.x + q.y * q.y <= rad * rad {
                    best = Some((t, f.w * s, (q.x, q.y)));
                }
            }
        }
    }
    best.map(|(t, n, uv)| Hit { t, n, uv })
}

/// A primitive in a scene: a shape plus what it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Prim {
    pub shape: Shape,
    pub material: u32,
    /// Index into the scene's object list.
    pub object: u32,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    bb: Aabb,
    /// For leaves: first prim index; for inner nodes: index of the right child.
    a: u32,
    /// Number of prims in a leaf, 0 for inner nodes.
    n: u32,
    /// Split axis of an inner node.
    axis: u32,
}

/// Bounding volume hierarchy over the bounded primitives; unbounded ones are tested linearly.
pub struct Bvh {
    nodes: Vec<Node>,
    order: Vec<u32>,
    unbounded: Vec<u32>,
}

impl Bvh {
    pub fn build(prims: &[Prim]) -> Bvh {
        let mut items: Vec<(u32, Aabb)> = Vec::new();
        let mut unbounded = Vec::new();
        let all = prims.iter().filter_map(|p| p.shape.aabb()).fold(Aabb::EMPTY, |a, b| a.union(b));
        let scene_ext = (all.hi - all.lo).max_elem();
        for (i, p) in prims.iter().enumerate() {
            match p.shape.aabb() {
                // Huge primitives (room shells, roads) would make every node overlap: test them linearly.
                Some(bb) if (bb.hi - bb.lo).max_elem() < 0.5 * scene_ext || prims.len() < 4 => items.push((i as u32, bb)),
                _ => unbounded.push(i as u32),
            }
        }
        let mut bvh = Bvh { nodes: Vec::new(), order: Vec::new(), unbounded };
        if !items.is_empty() {
            bvh.build_rec(&mut items);
        }
        bvh
    }

    fn build_rec(&mut self, items: &mut [(u32, Aabb)]) -> u32 {
        let bb = items.iter().fold(Aabb::EMPTY, |a, (_, b)| a.union(*b));
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node { bb, a: 0, n: 0, axis: 0 });
        if items.len() <= 2 {
            self.nodes[idx as usize].a = self.order.len() as u32;
            self.nodes[idx as usize].n = items.len() as u32;
            self.order.extend(items.iter().map(|(i, _)| *i));
            return idx;
        }
        let cb = items.iter().fold(Aabb::EMPTY, |a, (_, b)| {
            let c = b.centre();
            a.union(Aabb { lo: c, hi: c })
        });
        let ext = cb.hi - cb.lo;
        let axis = if ext.x >= ext.y && ext.x >= ext.z { 0 } else if ext.y >= ext.z { 1 } else { 2 };
        items.sort_by(|a, b| a.1.centre()[axis].total_cmp(&b.1.centre()[axis]).then(a.0.cmp(&b.0)));
        let mid = items.len() / 2;
        let (l, r) = items.split_at_mut(mid);
        self.build_rec(l);
        let right = self.build_rec(r);
        self.nodes[idx as usize].a = right;
        self.nodes[idx as usize].axis = axis as u32;
        idx
    }

    /// Visits the primitives whose node boxes the ray enters before `tmax`; `visit(prim, tmax)`
    /// may shrink `tmax` and returns true to stop. Unbounded primitives come first.
    #[inline]
    fn walk(&self, ray: &Ray, mut tmax: f32, mut visit: impl FnMut(u32, &mut f32) -> bool) {
        for &i in &self.unbounded {
            if visit(i, &mut tmax) {
                return;
            }
        }
        if self.nodes.is_empty() {
            return;
        }
        let inv = v3(1.0 / ray.d.x, 1.0 / ray.d.y, 1.0 / ray.d.z);
        let mut stack = [0u32; 64];
        let mut sp = 1usize;
        while sp > 0 {
            sp -= 1;
            let node = &self.nodes[stack[sp] as usize];
            if !node.bb.hit(ray.o, inv, tmax) {
                continue;
            }
            if node.n > 0 {
                for k in node.a..node.a + node.n {
                    if visit(self.order[k as usize], &mut tmax) {
                        return;
                    }
                }
            } else if sp + 2 <= stack.len() {
                // Visit the child on the ray's side first (pushed last).
                let left = stack[sp] + 1;
                let (first, second) = if ray.d[node.axis as usize] >= 0.0 { (left, node.a) } else { (node.a, left) };
                stack[sp] = second;
                stack[sp + 1] = first;
                sp += 2;
            }
        }
    }

    /// Closest hit; returns the hit and the primitive index.
    pub fn closest(&self, prims: &[Prim], ray: &Ray, tmin: f32, tmax: f32) -> Option<(Hit, u32)> {
        let mut best: Option<(Hit, u32)> = None;
        self.walk(ray, tmax, |pi, tmax| {
            if let Some(h) = prims[pi as usize].shape.intersect(ray, tmin, *tmax) {
                *tmax = h.t;
                best = Some((h, pi));
            }
            false
        });
        best
    }

    /// True if anything blocks the ray within (tmin, tmax).
    pub fn occluded(&self, prims: &[Prim], ray: &Ray, tmin: f32, tmax: f32) -> bool {
        let mut hit = false;
        self.walk(ray, tmax, |pi, tmax| {
            hit = prims[pi as usize].shape.intersect(ray, tmin, *tmax).is_some();
            hit
        });
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_and_sphere_hits_have_expected_distance_and_normal() {
        let r = Ray { o: v3(0.0, 0.0, 5.0), d: v3(0.0, 0.0, -1.0) };
        let b = Shape::Cuboid { c: Vec3::ZERO, f: Frame::IDENTITY, h: v3(1.0, 1.0, 1.0) };
        let h = b.intersect(&r, 1e-4, 1e9).unwrap();
        assert!((h.t - 4.0).abs() < 1e-5);
        assert!((h.n - Vec3::Z).length() < 1e-5);
        let s = Shape::Ellipsoid { c: Vec3::ZERO, f: Frame::yaw(0.3), r: Vec3::splat(2.0) };
        let h = s.intersect(&r, 1e-4, 1e9).unwrap();
        assert!((h.t - 3.0).abs() < 1e-4);
        let cyl = Shape::Cylinder { c: v3(0.0, -1.0, 0.0), f: Frame::from_w(Vec3::Y), r: 0.5, len: 2.0 };
        let h = cyl.intersect(&r, 1e-4, 1e9).unwrap();
        assert!((h.t - 4.5).abs() < 1e-4, "{}", h.t);
        assert!((h.n - Vec3::Z).length() < 1e-4);
        // Miss above the cylinder.
        let r2 = Ray { o: v3(0.0, 1.5, 5.0), d: v3(0.0, 0.0, -1.0) };
        assert!(cyl.intersect(&r2, 1e-4, 1e9).is_none());
    }

    #[test]
    fn bvh_matches_brute_force() {
        let rng = crate::math::Rng::new(7);
        let prims: Vec<Prim> = (0..40)
            .map(|i| {
                let c = v3(rng.range(-5.0, 5.0), rng.range(-5.0, 5.0), rng.range(-5.0, 5.0));
                let shape = if i % 2 == 0 {
                    Shape::Cuboid { c, f: Frame::yaw(rng.range(0.0, 3.0)), h: Vec3::splat(rng.range(0.2, 1.0)) }
                } else {
                    Shape::Ellipsoid { c, f: Frame::IDENTITY, r: Vec3::splat(rng.range(0.2, 1.0)) }
                };
                Prim { shape, material: 0, object: i }
            })
            .collect();
        let bvh = Bvh::build(&prims);
        for _ in 0..500 {
            let o = v3(rng.range(-9.0, 9.0), rng.range(-9.0, 9.0), 12.0);
            let d = v3(rng.range(-0.5, 0.5), rng.range(-0.5, 0.5), -1.0).normalize();
            let ray = Ray { o, d };
            let brute = prims
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.shape.intersect(&ray, 1e-4, 1e9).map(|h| (h.t, i as u32)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let fast = bvh.closest(&prims, &ray, 1e-4, 1e9).map(|(h, i)| (h.t, i));
            assert_eq!(brute, fast);
            assert_eq!(brute.is_some(), bvh.occluded(&prims, &ray, 1e-4, 1e9));
        }
    }
}
