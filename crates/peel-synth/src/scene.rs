//! Scene description: classes, materials, objects, lights, sky and camera.

use crate::geom::{Aabb, Bvh, Prim, Shape};
use crate::math::{Frame, Rng, Vec3, clamp01, v3};
use crate::texture::{TexKind, TextureBank};

/// Semantic class names, indexed by the ids written to `semantic.png`.
pub const CLASSES: [&str; 33] = [
    "none", "sky", "wall", "floor", "ceiling", "window", "door", "table", "chair", "shelf", "cabinet", "sofa", "bed",
    "lamp", "picture", "rug", "book", "box", "sphere", "cylinder", "mug", "bottle", "can", "bowl", "road",
    "sidewalk", "ground", "building", "car", "tree", "pole", "rock", "lane marking",
];

/// Class ids (indices into [`CLASSES`]).
#[allow(missing_docs)]
pub mod class {
    pub const NONE: u8 = 0;
    pub const SKY: u8 = 1;
    pub const WALL: u8 = 2;
    pub const FLOOR: u8 = 3;
    pub const CEILING: u8 = 4;
    pub const WINDOW: u8 = 5;
    pub const DOOR: u8 = 6;
    pub const TABLE: u8 = 7;
    pub const CHAIR: u8 = 8;
    pub const SHELF: u8 = 9;
    pub const CABINET: u8 = 10;
    pub const SOFA: u8 = 11;
    pub const BED: u8 = 12;
    pub const LAMP: u8 = 13;
    pub const PICTURE: u8 = 14;
    pub const RUG: u8 = 15;
    pub const BOOK: u8 = 16;
    pub const BOX: u8 = 17;
    pub const SPHERE: u8 = 18;
    pub const CYLINDER: u8 = 19;
    pub const MUG: u8 = 20;
    pub const BOTTLE: u8 = 21;
    pub const CAN: u8 = 22;
    pub const BOWL: u8 = 23;
    pub const ROAD: u8 = 24;
    pub const SIDEWALK: u8 = 25;
    pub const GROUND: u8 = 26;
    pub const BUILDING: u8 = 27;
    pub const CAR: u8 = 28;
    pub const TREE: u8 = 29;
    pub const POLE: u8 = 30;
    pub const ROCK: u8 = 31;
    pub const LANE_MARKING: u8 = 32;
}

/// English plural of a class name.
pub fn plural(name: &str) -> String {
    match name {
        "shelf" => "shelves".into(),
        "box" => "boxes".into(),
        "sky" => "sky".into(),
        n if n.ends_with('s') => format!("{n}es"),
        n => format!("{n}s"),
    }
}

/// Which kind of scene to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SceneKind {
    Indoor,
    Outdoor,
    Tabletop,
    Mixed,
}

impl SceneKind {
    pub fn parse(s: &str) -> Option<SceneKind> {
        match s.to_ascii_lowercase().as_str() {
            "indoor" => Some(SceneKind::Indoor),
            "outdoor" => Some(SceneKind::Outdoor),
            "tabletop" => Some(SceneKind::Tabletop),
            "mixed" => Some(SceneKind::Mixed),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            SceneKind::Indoor => "indoor",
            SceneKind::Outdoor => "outdoor",
            SceneKind::Tabletop => "tabletop",
            SceneKind::Mixed => "mixed",
        }
    }
}

/// Surface appearance.
#[derive(Clone, Copy, Debug)]
pub struct Material {
    pub tex: u32,
    pub tint: Vec3,
    /// Meters per texture width along u and v.
    pub scale: (f32, f32),
    pub offset: (f32, f32),
    /// Specular strength (0..1) and Blinn-Phong exponent.
    pub spec: f32,
    pub shininess: f32,
    /// Mirror-like environment reflection strength at normal incidence.
    pub refl: f32,
    /// Emitted radiance (linear).
    pub emit: Vec3,
}

/// A scene-graph node: one labelled instance made of one or more primitives.
#[derive(Clone, Debug)]
pub struct Object {
    pub class: u8,
    /// Countable object (true) or surface/"stuff" like walls and roads (false).
    pub thing: bool,
    /// Mean albedo of its main material, used for the colour name.
    pub albedo: Vec3,
    /// World bounding box of its primitives.
    pub bb: Aabb,
    /// Object it stands on (index), if any.
    pub on: Option<u32>,
}

#[derive(Clone, Copy, Debug)]
pub enum Light {
    /// Directional light towards `dir` (unit, pointing to the light).
    Sun { dir: Vec3, col: Vec3, spread: f32 },
    /// Point light with a small radius for soft shadows.
    Point { pos: Vec3, col: Vec3, radius: f32 },
    /// Rectangle light: centre, half-edge vectors, emitting towards `n`.
    Rect { c: Vec3, eu: Vec3, ev: Vec3, n: Vec3, col: Vec3 },
}

/// Sky model: gradient, sun disk, clouds.
#[derive(Clone, Copy, Debug)]
pub struct Sky {
    pub zenith: Vec3,
    pub horizon: Vec3,
    pub ground: Vec3,
    pub sun_dir: Vec3,
    pub sun_col: Vec3,
    pub clouds: f32,
    pub seed: u64,
}

impl Sky {
    pub fn radiance(&self, d: Vec3) -> Vec3 {
        self.radiance_unscaled(d) * 0.6
    }

    fn radiance_unscaled(&self, d: Vec3) -> Vec3 {
        let y = d.y;
        let mut c = if y >= 0.0 {
            let t = y.max(0.0).powf(0.45);
            self.horizon.lerp(self.zenith, t)
        } else {
            self.horizon.lerp(self.ground, clamp01(-y * 4.0))
        };
        if y > 0.0 && self.clouds > 0.0 {
            // Project onto a cloud layer.
            let k = 1.0 / (y + 0.08);
            let (u, w) = (d.x * k, d.z * k);
            let n = cloud_noise(u * 0.8, w * 0.8, self.seed);
            let cov = crate::math::smoothstep(1.0 - self.clouds, 1.0 - self.clouds + 0.35, n);
            let fade = clamp01(y * 6.0);
            c = c.lerp(v3(1.0, 1.0, 1.0) * (self.horizon.luma() * 1.1 + 0.1), cov * fade * 0.85);
        }
        let sd = d.dot(self.sun_dir);
        if sd > 0.9995 {
            c += self.sun_col * 8.0;
        } else if sd > 0.97 {
            c += self.sun_col * (0.08 * ((sd - 0.97) / 0.03).powi(3));
        }
        c
    }
}

fn cloud_noise(x: f32, y: f32, seed: u64) -> f32 {
    let mut s = 0.0;
    let mut a = 0.5;
    let mut f = 1.0;
    for o in 0..4u64 {
        let (xf, yf) = (x * f, y * f);
        let (xi, yi) = (xf.floor(), yf.floor());
        let (tx, ty) = (xf - xi, yf - yi);
        let h = |i: f32, j: f32| (crate::math::hash(&[seed, o, i as i64 as u64, j as i64 as u64]) >> 40) as f32 / 16_777_216.0;
        let sx = tx * tx * (3.0 - 2.0 * tx);
        let sy = ty * ty * (3.0 - 2.0 * ty);
        let v0 = h(xi, yi) + (h(xi + 1.0, yi) - h(xi, yi)) * sx;
        let v1 = h(xi, yi + 1.0) + (h(xi + 1.0, yi + 1.0) - h(xi, yi + 1.0)) * sx;
        s += a * (v0 + (v1 - v0) * sy);
        a *= 0.5;
        f *= 2.03;
    }
    s / 0.9375
}

/// Pinhole camera. Camera frame: `f.u` = +x right, `f.v` = +y up, `f.w` = +z towards the viewer
/// (the camera looks along `-f.w`).
#[derive(Clone, Copy, Debug)]
pub struct Camera {
    pub pos: Vec3,
    pub f: Frame,
    pub width: u32,
    pub height: u32,
    pub fx: f32,
    pub fy: f32,
    pub cx: f32,
    pub cy: f32,
    pub pitch: f32,
    pub roll: f32,
}

impl Camera {
    /// Camera at `pos` with yaw/pitch/roll (radians) and horizontal field of view `hfov`.
    pub fn new(pos: Vec3, yaw: f32, pitch: f32, roll: f32, hfov: f32, width: u32, height: u32) -> Camera {
        // Start looking along -z (w = +z), then roll, pitch, yaw.
        let (sr, cr) = roll.sin_cos();
        let rolled = Frame { u: v3(cr, sr, 0.0), v: v3(-sr, cr, 0.0), w: Vec3::Z };
        let (sp, cp) = pitch.sin_cos();
        let pitch_f = Frame { u: Vec3::X, v: v3(0.0, cp, sp), w: v3(0.0, -sp, cp) };
        let f = rolled.then(&pitch_f).then(&Frame::yaw(yaw));
        let fx = width as f32 * 0.5 / (hfov * 0.5).tan();
        Camera { pos, f, width, height, fx, fy: fx, cx: width as f32 * 0.5, cy: height as f32 * 0.5, pitch, roll }
    }
    /// Unit ray direction (world) through pixel centre (px + 0.5, py + 0.5), and the z-depth per unit distance.
    #[inline]
    pub fn ray_dir(&self, px: f32, py: f32) -> (Vec3, f32) {
        let x = (px - self.cx) / self.fx;
        let y = -(py - self.cy) / self.fy;
        let dc = v3(x, y, -1.0);
        let inv = 1.0 / dc.length();
        ((self.f.u * x + self.f.v * y - self.f.w) * inv, inv)
    }
    /// World point to camera frame.
    pub fn to_cam(&self, p: Vec3) -> Vec3 {
        self.f.to_local(p - self.pos)
    }
    pub fn hfov(&self) -> f32 {
        2.0 * (self.cx / self.fx).atan()
    }
    pub fn vfov(&self) -> f32 {
        2.0 * (self.cy / self.fy).atan()
    }
}

/// A complete renderable scene.
pub struct Scene {
    pub kind: SceneKind,
    pub prims: Vec<Prim>,
    pub bvh: Bvh,
    pub materials: Vec<Material>,
    pub objects: Vec<Object>,
    pub lights: Vec<Light>,
    /// Ambient light from above and below.
    pub amb_up: Vec3,
    pub amb_down: Vec3,
    pub sky: Option<Sky>,
    pub camera: Camera,
    /// Distance over which haze halves contrast (meters); infinity for none.
    pub haze_dist: f32,
    pub haze_col: Vec3,
    /// Ambient-occlusion ray length (meters).
    pub ao_radius: f32,
    /// Named reference objects for relations (e.g. the window).
    pub landmarks: Vec<(String, u32)>,
    /// The support the scene is about (the tabletop's table): at least two objects on it must be visible.
    pub focus: Option<u32>,
}

/// Incremental scene construction used by the generators.
pub struct Builder<'a> {
    pub bank: &'a TextureBank,
    pub rng: Rng,
    pub prims: Vec<Prim>,
    pub materials: Vec<Material>,
    pub objects: Vec<Object>,
    pub lights: Vec<Light>,
    pub landmarks: Vec<(String, u32)>,
    pub focus: Option<u32>,
}

/// Saturated named colours used for painted objects.
pub const PAINT: [(f32, f32, f32); 10] = [
    (0.70, 0.06, 0.05), // red
    (0.85, 0.35, 0.04), // orange
    (0.85, 0.70, 0.06), // yellow
    (0.10, 0.45, 0.10), // green
    (0.05, 0.15, 0.60), // blue
    (0.35, 0.08, 0.50), // purple
    (0.85, 0.35, 0.55), // pink
    (0.80, 0.80, 0.78), // white
    (0.04, 0.04, 0.04), // black
    (0.30, 0.30, 0.30), // gray
];

impl<'a> Builder<'a> {
    pub fn new(bank: &'a TextureBank, rng: Rng) -> Builder<'a> {
        Builder { bank, rng, prims: Vec::new(), materials: Vec::new(), objects: Vec::new(), lights: Vec::new(), landmarks: Vec::new(), focus: None }
    }

    /// Adds a material and returns its index.
    pub fn mat(&mut self, m: Material) -> u32 {
        self.materials.push(m);
        (self.materials.len() - 1) as u32
    }

    /// Material with a texture of `kind`, tile size `scale` meters.
    pub fn tex_mat(&mut self, kind: TexKind, scale: f32, tint: Vec3, spec: f32) -> u32 {
        let tex = self.bank.pick(&mut self.rng, kind);
        let off = (self.rng.f32(), self.rng.f32());
        self.mat(Material { tex, tint, scale: (scale, scale), offset: off, spec, shininess: 20.0 + 60.0 * spec, refl: 0.0, emit: Vec3::ZERO })
    }

    /// A photo crop material when photos are loaded, else procedural of `fallback`.
    pub fn photo_mat(&mut self, scale: f32, fallback: TexKind) -> u32 {
        if self.bank.has_photos() {
            self.tex_mat(TexKind::Photo, scale, Vec3::ONE, 0.1)
        } else {
            self.tex_mat(fallback, scale, Vec3::ONE, 0.1)
        }
    }

    /// Painted material with a named colour from [`PAINT`] (slightly jittered).
    pub fn paint_mat(&mut self, spec: f32) -> u32 {
        let kind = *self.rng.pick(&[TexKind::Plain, TexKind::Plain, TexKind::Fabric]);
        self.paint_mat_on(kind, spec)
    }

    /// Painted material on a texture of `kind` (used as a neutral pattern).
    pub fn paint_mat_on(&mut self, kind: TexKind, spec: f32) -> u32 {
        let (r, g, b) = *self.rng.pick(&PAINT);
        let j = 0.85 + 0.3 * self.rng.f32();
        let tint = v3(r, g, b) * j;
        let tex = self.bank.pick(&mut self.rng, kind);
        let mean = self.bank.textures[tex as usize].mean;
        // Normalise so that the mean albedo equals the tint.
        let norm = 1.0 / mean.luma().max(0.05);
        self.mat(Material {
            tex,
            tint: tint * norm,
            scale: (0.5, 0.5),
            offset: (self.rng.f32(), self.rng.f32()),
            spec,
            shininess: 30.0 + 80.0 * spec,
            refl: spec * 0.3,
            emit: Vec3::ZERO,
        })
    }

    pub fn albedo(&self, m: u32) -> Vec3 {
        let m = &self.materials[m as usize];
        self.bank.textures[m.tex as usize].mean.cmul(m.tint)
    }

    /// Starts a new object whose colour is taken from material `m`.
    pub fn object(&mut self, class: u8, thing: bool, m: u32) -> u32 {
        let albedo = self.albedo(m);
        self.objects.push(Object { class, thing, albedo, bb: Aabb::EMPTY, on: None });
        (self.objects.len() - 1) as u32
    }

    pub fn prim(&mut self, obj: u32, shape: Shape, material: u32) {
        if let Some(bb) = shape.aabb() {
            let o = &mut self.objects[obj as usize];
            o.bb = o.bb.union(bb);
        }
        self.prims.push(Prim { shape, material, object: obj });
    }

    /// Axis-aligned-in-yaw box by its bottom-centre, size (w along x, h, d along z), yaw.
    pub fn cuboid(&mut self, obj: u32, bottom: Vec3, size: Vec3, yaw: f32, m: u32) {
        let f = Frame::yaw(yaw);
        self.prim(obj, Shape::Cuboid { c: bottom + Vec3::Y * (size.y * 0.5), f, h: size * 0.5 }, m);
    }

    pub fn vcyl(&mut self, obj: u32, bottom: Vec3, r: f32, h: f32, m: u32) {
        self.prim(obj, Shape::Cylinder { c: bottom, f: Frame { u: Vec3::X, v: Vec3::Z, w: Vec3::Y }, r, len: h }, m);
    }

    pub fn sphere(&mut self, obj: u32, c: Vec3, r: f32, m: u32) {
        self.prim(obj, Shape::Ellipsoid { c, f: Frame::IDENTITY, r: Vec3::splat(r) }, m);
    }

    pub fn finish(self, kind: SceneKind, camera: Camera, env: Env) -> Scene {
        let bvh = Bvh::build(&self.prims);
        Scene {
            kind,
            prims: self.prims,
            bvh,
            materials: self.materials,
            objects: self.objects,
            lights: self.lights,
            amb_up: env.amb_up,
            amb_down: env.amb_down,
            sky: env.sky,
            camera,
            haze_dist: env.haze_dist,
            haze_col: env.haze_col,
            ao_radius: env.ao_radius,
            landmarks: self.landmarks,
            focus: self.focus,
        }
    }
}

/// Global lighting environment of a scene.
pub struct Env {
    pub amb_up: Vec3,
    pub amb_down: Vec3,
    pub sky: Option<Sky>,
    pub haze_dist: f32,
    pub haze_col: Vec3,
    pub ao_radius: f32,
}
