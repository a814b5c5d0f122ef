//! Small vector maths and a deterministic RNG (no external dependencies).

use std::ops::{Add, AddAssign, Div, Index, Mul, Neg, Sub};

/// 3-component f32 vector.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

#[inline]
pub const fn v3(x: f32, y: f32, z: f32) -> Vec3 {
    Vec3 { x, y, z }
}

impl Vec3 {
    pub const ZERO: Vec3 = v3(0.0, 0.0, 0.0);
    pub const ONE: Vec3 = v3(1.0, 1.0, 1.0);
    pub const X: Vec3 = v3(1.0, 0.0, 0.0);
    pub const Y: Vec3 = v3(0.0, 1.0, 0.0);
    pub const Z: Vec3 = v3(0.0, 0.0, 1.0);
    #[inline]
    pub fn splat(a: f32) -> Vec3 {
        v3(a, a, a)
    }
    #[inline]
    pub fn dot(self, o: Vec3) -> f32 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
    #[inline]
    pub fn cross(self, o: Vec3) -> Vec3 {
        v3(
            self.y * o.z - self.z * o.y,
            self.z * o.x - self.x * o.z,
            self.x * o.y - self.y * o.x,
        )
    }
    #[inline]
    pub fn length(self) -> f32 {
        self.dot(self).sqrt()
    }
    #[inline]
    pub fn normalize(self) -> Vec3 {
        let l = self.length();
        if l > 0.0 { self * (1.0 / l) } else { Vec3::Y }
    }
    /// Component-wise product.
    #[inline]
    pub fn cmul(self, o: Vec3) -> Vec3 {
        v3(self.x * o.x, self.y * o.y, self.z * o.z)
    }
    #[inline]
    pub fn min(self, o: Vec3) -> Vec3 {
        v3(self.x.min(o.x), self.y.min(o.y), self.z.min(o.z))
    }
    #[inline]
    pub fn max(self, o: Vec3) -> Vec3 {
        v3(self.x.max(o.x), self.y.max(o.y), self.z.max(o.z))
    }
    #[inline]
    pub fn abs(self) -> Vec3 {
        v3(self.x.abs(), self.y.abs(), self.z.abs())
    }
    #[inline]
    pub fn max_elem(self) -> f32 {
        self.x.max(self.y).max(self.z)
    }
    #[inline]
    pub fn lerp(self, o: Vec3, t: f32) -> Vec3 {
        self + (o - self) * t
    }
    #[inline]
    pub fn luma(self) -> f32 {
        0.2126 * self.x + 0.7152 * self.y + 0.0722 * self.z
    }
    pub fn to_array(self) -> [f32; 3] {
        [self.x, self.y, self.z]
    }
    /// Any unit vector orthogonal to `self` (assumed unit).
    pub fn any_orthonormal(self) -> Vec3 {
        let a = if self.x.abs() < 0.9 { Vec3::X } else { Vec3::Y };
        self.cross(a).normalize()
    }
}

impl Add for Vec3 {
    type Output = Vec3;
    #[inline]
    fn add(self, o: Vec3) -> Vec3 {
        v3(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}
impl AddAssign for Vec3 {
    #[inline]
    fn add_assign(&mut self, o: Vec3) {
        *self = *self + o;
    }
}
impl Sub for Vec3 {
    type Output = Vec3;
    #[inline]
    fn sub(self, o: Vec3) -> Vec3 {
        v3(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}
impl Mul<f32> for Vec3 {
    type Output = Vec3;
    #[inline]
    fn mul(self, s: f32) -> Vec3 {
        v3(self.x * s, self.y * s, self.z * s)
    }
}
impl Div<f32> for Vec3 {
    type Output = Vec3;
    #[inline]
    fn div(self, s: f32) -> Vec3 {
        self * (1.0 / s)
    }
}
impl Neg for Vec3 {
    type Output = Vec3;
    #[inline]
    fn neg(self) -> Vec3 {
        v3(-self.x, -self.y, -self.z)
    }
}
impl Index<usize> for Vec3 {
    type Output = f32;
    #[inline]
    fn index(&self, i: usize) -> &f32 {
        match i {
            0 => &self.x,
            1 => &self.y,
            _ => &self.z,
        }
    }
}

/// Orthonormal frame: local coordinates (a, b, c) map to `a*u + b*v + c*w`.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub u: Vec3,
    pub v: Vec3,
    pub w: Vec3,
}

impl Frame {
    pub const IDENTITY: Frame = Frame { u: Vec3::X, v: Vec3::Y, w: Vec3::Z };
    /// Rotation about the world vertical (y) axis by `yaw` radians.
    pub fn yaw(yaw: f32) -> Frame {
        let (s, c) = yaw.sin_cos();
        Frame { u: v3(c, 0.0, -s), v: Vec3::Y, w: v3(s, 0.0, c) }
    }
    /// Frame whose `w` axis is `axis` (unit).
    pub fn from_w(axis: Vec3) -> Frame {
        let w = axis.normalize();
        let u = w.any_orthonormal();
        let v = w.cross(u);
        Frame { u, v, w }
    }
    #[inline]
    pub fn to_local(&self, p: Vec3) -> Vec3 {
        v3(p.dot(self.u), p.dot(self.v), p.dot(self.w))
    }
    #[inline]
    pub fn to_world(&self, p: Vec3) -> Vec3 {
        self.u * p.x + self.v * p.y + self.w * p.z
    }
    /// Compose: apply `self` then `outer` (both rotations).
    pub fn then(&self, outer: &Frame) -> Frame {
        Frame { u: outer.to_world(self.u), v: outer.to_world(self.v), w: outer.to_world(self.w) }
    }
}

/// SplitMix64 step, used for hashing seeds.
#[inline]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash several integers into one well-mixed u64.
#[inline]
pub fn hash(parts: &[u64]) -> u64 {
    let mut h = 0x1234_5678_9ABC_DEF0u64;
    for &p in parts {
        h = splitmix64(h ^ p);
    }
    h
}

/// Small, fast, deterministic RNG (xoshiro256++ seeded by SplitMix64).
///
/// State lives in a `Cell` so that drawing needs only `&self` (convenient in builder code).
#[derive(Clone, Debug)]
pub struct Rng {
    s: std::cell::Cell<[u64; 4]>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed;
        let mut s = [0u64; 4];
        for v in &mut s {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *v = splitmix64(z);
        }
        Rng { s: std::cell::Cell::new(s) }
    }
    #[inline]
    pub fn next_u64(&self) -> u64 {
        let mut s = self.s.get();
        let r = (s[0].wrapping_add(s[3])).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        self.s.set(s);
        r
    }
    /// Uniform in [0, 1).
    #[inline]
    pub fn f32(&self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }
    /// Uniform in [lo, hi).
    #[inline]
    pub fn range(&self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f32()
    }
    /// Uniform integer in [lo, hi] (inclusive).
    pub fn int(&self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// Uniform index in [0, n).
    pub fn index(&self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }
    pub fn chance(&self, p: f32) -> bool {
        self.f32() < p
    }
    pub fn pick<'a, T>(&self, xs: &'a [T]) -> &'a T {
        &xs[self.index(xs.len())]
    }
    /// Approximately normal (sum of uniforms), mean 0, sd 1.
    pub fn normal(&self) -> f32 {
        (self.f32() + self.f32() + self.f32() + self.f32() - 2.0) * 1.732_050_8
    }
    pub fn shuffle<T>(&self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.index(i + 1);
            xs.swap(i, j);
        }
    }
}

/// Stateless per-pixel random numbers: uniform in [0,1) from a hash.
#[inline]
pub fn hash_f32(h: u64) -> f32 {
    (splitmix64(h) >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
}

#[inline]
pub fn clamp01(x: f32) -> f32 {
    x.clamp(0.0, 1.0)
}

#[inline]
pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = clamp01((x - e0) / (e1 - e0));
    t * t * (3.0 - 2.0 * t)
}
