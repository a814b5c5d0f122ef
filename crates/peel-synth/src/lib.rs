//! # peel-synth: synthetic scenes with exact metric ground truth
//!
//! A CPU ray caster over analytic primitives (planes, rotated boxes, spheres/ellipsoids,
//! cylinders, cones, and compounds built from them: tables, chairs, shelves, cars, trees,
//! buildings) that renders indoor rooms, tabletop close-ups, streets and open terrain with
//! physically plausible metric sizes, photo and procedural textures, shadows, ambient occlusion
//! and camera effects, together with exact depth, normals, semantic and instance labels and
//! referring expressions.
//!
//! ## Output format (one folder per sample, `DIR/<id>/`, id = 6-digit index)
//!
//! | file | content |
//! |---|---|
//! | `rgb.png` | 8-bit sRGB photo, H×W×3 |
//! | `depth.npy` | float32 H×W, metric **z-depth** (distance along the optical axis) in meters; `inf` for sky |
//! | `normal.npy` | float32 H×W×3, unit normals in the camera frame (+x right, +y up, +z towards the viewer); `(0,0,0)` for sky |
//! | `semantic.png` | 8-bit grey, class id per pixel; names in `meta.json` `classes` (= [`CLASSES`]) |
//! | `instance.png` | 16-bit grey, instance id per pixel, `0` = none (sky); ids are `1..=K` for the K visible instances |
//! | `meta.json` | [`Meta`]: intrinsics, camera, class names, instances, referring expressions |
//!
//! Camera model: pinhole, no distortion. Pixel (u, v) (column, row) has its centre at
//! `(u + 0.5, v + 0.5)`; its ray in the camera frame is `((u+0.5-cx)/fx, -(v+0.5-cy)/fy, -1)`, and the
//! 3D point at z-depth `d` is `d` times that vector. `fx == fy` (square pixels), `cx = W/2`, `cy = H/2`.
//!
//! `meta.json` fields: `format` (`"peel-synth/1"`), `id`, `seed`, `index`, `kind`
//! (`indoor`|`outdoor`|`tabletop`), `width`, `height`, `intrinsics {fx, fy, cx, cy}`,
//! `camera {height_m, pitch_deg, roll_deg, fov_x_deg, fov_y_deg}`, `classes` (names by id),
//! `instances` (one per visible instance: `id`, `class`, `class_id`, `thing` (countable object vs.
//! surface like wall/road), `colour`, `bbox [x0,y0,x1,y1]` (exclusive end), `pixels`,
//! `position [x,y,z]` (centre of its 3D box in the camera frame, meters), `size [x,y,z]` (meters),
//! `on` (id of the visible instance it stands on, or null)), `min_expression_pixels`, and
//! `expressions` (3 to 8 per image: `text`, `kind` (`category`, `unique`, `attribute`, `ordinal`,
//! `size`, `distance`, `relation`, `support`), `class`, `instance_ids` (non-empty, visible)).
//!
//! ## In-process use
//!
//! ```no_run
//! use peel_synth::{Synth, SynthConfig};
//! let synth = Synth::new(SynthConfig { width: 256, height: 256, seed: 1, ..SynthConfig::default() });
//! let sample = synth.render(0); // deterministic in (config, seed, index)
//! let depth = sample.depth_array().unwrap(); // ndarray H×W
//! sample.write(std::path::Path::new("/tmp/out/000000")).unwrap();
//! ```

pub mod annotate;
pub mod contact;
pub mod geom;
pub mod math;
pub mod post;
pub mod render;
pub mod scene;
pub mod texture;
pub mod validate;
mod scenegen;
mod io;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

pub use annotate::{Expression, InstanceInfo, Intrinsics, Meta};
pub use io::read_sample;
pub use render::Quality;
pub use scene::{CLASSES, SceneKind};
pub use texture::PhotoSource;

use math::{Rng, hash};
use scene::Builder;
use texture::TextureBank;

/// Errors from generation and I/O.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {msg}")]
    Format { path: PathBuf, msg: String },
}

/// Generation settings.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    pub width: u32,
    pub height: u32,
    pub kind: SceneKind,
    pub seed: u64,
    pub quality: Quality,
    pub photos: PhotoSource,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig { width: 256, height: 256, kind: SceneKind::Mixed, seed: 0, quality: Quality::default(), photos: PhotoSource::default() }
    }
}

/// Largest accepted image side.
pub const MAX_SIDE: u32 = 2048;
/// Smallest accepted image side.
pub const MIN_SIDE: u32 = 16;

impl SynthConfig {
    pub fn validate(&self) -> Result<(), SynthError> {
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if !(MIN_SIDE..=MAX_SIDE).contains(&v) {
                return Err(SynthError::Invalid(format!("{name} {v} is outside {MIN_SIDE}..={MAX_SIDE}")));
            }
        }
        Ok(())
    }
}

/// Parses `WxH` (e.g. `256x256`).
pub fn parse_size(s: &str) -> Result<(u32, u32), SynthError> {
    let bad = || SynthError::Invalid(format!("size {s:?} is not WxH with {MIN_SIDE} <= W,H <= {MAX_SIDE}"));
    let (a, b) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = a.trim().parse().map_err(|_| bad())?;
    let h: u32 = b.trim().parse().map_err(|_| bad())?;
    if !(MIN_SIDE..=MAX_SIDE).contains(&w) || !(MIN_SIDE..=MAX_SIDE).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// One rendered sample with all ground truth, in memory. Arrays are row-major.
#[derive(Clone, Debug)]
pub struct Sample {
    pub width: u32,
    pub height: u32,
    /// H×W×3 sRGB bytes.
    pub rgb: Vec<u8>,
    /// H×W z-depth in meters, `inf` for sky.
    pub depth: Vec<f32>,
    /// H×W×3 camera-frame unit normals, zero for sky.
    pub normal: Vec<f32>,
    /// H×W class ids.
    pub semantic: Vec<u8>,
    /// H×W instance ids (0 = none).
    pub instance: Vec<u16>,
    pub meta: Meta,
}

impl Sample {
    /// The depth as an H×W array; an error if `depth` does not hold `width × height` values
    /// (the fields are public, so a caller may have changed one without the other).
    pub fn depth_array(&self) -> Result<ndarray::Array2<f32>, ndarray::ShapeError> {
        ndarray::Array2::from_shape_vec((self.height as usize, self.width as usize), self.depth.clone())
    }
    /// The normals as an H×W×3 array; an error if `normal` does not hold `width × height × 3` values.
    pub fn normal_array(&self) -> Result<ndarray::Array3<f32>, ndarray::ShapeError> {
        ndarray::Array3::from_shape_vec((self.height as usize, self.width as usize, 3), self.normal.clone())
    }
    /// Writes the six files into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<(), SynthError> {
        io::write_sample(self, dir)
    }
}

/// A renderer with its texture bank loaded; cheap to call repeatedly.
pub struct Synth {
    pub config: SynthConfig,
    bank: TextureBank,
    /// Warnings from set-up (e.g. photos unavailable).
    pub warnings: Vec<String>,
}

impl Synth {
    /// Loads textures (a bounded, seed-chosen subset of photos plus procedural ones).
    pub fn new(config: SynthConfig) -> Synth {
        let (bank, warnings) = TextureBank::new(config.seed, &config.photos);
        Synth { config, bank, warnings }
    }

    /// Number of photo textures loaded.
    pub fn photo_count(&self) -> usize {
        self.bank.photo_count
    }

    /// Renders sample `index`. The result depends only on the config (incl. seed and photo folder) and `index`.
    pub fn render(&self, index: u64) -> Sample {
        let c = &self.config;
        let (w, h) = (c.width.clamp(MIN_SIDE, MAX_SIDE), c.height.clamp(MIN_SIDE, MAX_SIDE));
        // The kind is drawn once per sample, so that retries (scenes with too few referring
        // expressions are regenerated) do not skew the mix.
        let kind = match c.kind {
            SceneKind::Mixed => scenegen::pick_kind(&Rng::new(hash(&[c.seed, index, 0x6b69_6e64]))),
            k => k,
        };
        let mut last = None;
        for attempt in 0..16u64 {
            let s = hash(&[c.seed, index, attempt]);
            let mut b = Builder::new(&self.bank, Rng::new(s));
            let (kind, cam, env) = scenegen::generate(&mut b, kind, w, h);
            let mut scene = b.finish(kind, cam, env);
            scene.kind = kind;
            let t0 = Instant::now();
            let frame = render::render(&scene, &self.bank, &c.quality, s);
            let t1 = t0.elapsed().as_secs_f64();
            let mut rng = Rng::new(s ^ 0xE4);
            let ann = annotate::annotate(&scene, &frame, c.seed, index, &mut rng, 3);
            let ok = ann.is_some();
            if std::env::var("PEEL_SYNTH_PROFILE").is_ok() {
                eprintln!("idx {index} attempt {attempt} kind {:?} prims {} lights {} render {t1:.3}s annotate {:.3}s ok {ok}", scene.kind, scene.prims.len(), scene.lights.len(), t0.elapsed().as_secs_f64() - t1);
            }
            last = Some((scene, frame, ann, s));
            if ok {
                break;
            }
        }
        let (scene, frame, ann, s) = last.expect("at least one attempt");
        let (semantic, instance, meta) = match ann {
            Some(a) => a,
            None => {
                // Extremely unlikely: keep the labels, with whatever expressions exist.
                let mut rng = Rng::new(s);
                annotate::annotate(&scene, &frame, c.seed, index, &mut rng, 0).expect("no minimum")
            }
        };
        let rgb = post::develop(&frame.color, frame.width, frame.height, s ^ 0x5057, c.quality.camera_effects);
        Sample {
            width: w,
            height: h,
            rgb,
            depth: frame.depth,
            normal: frame.normal.iter().flat_map(|n| *n).collect(),
            semantic,
            instance,
            meta,
        }
    }
}

/// Renders one sample in-process (loads textures each call: prefer [`Synth`] for many samples).
pub fn render_sample(config: &SynthConfig, index: u64) -> Sample {
    Synth::new(config.clone()).render(index)
}

/// Throughput figures from [`generate_dataset`].
#[derive(Clone, Debug)]
pub struct Stats {
    pub count: u64,
    pub seconds: f64,
    pub setup_seconds: f64,
    pub samples_per_second: f64,
}

/// Renders `count` samples starting at `start` into `out/<id>/`, streaming: rendering of the next
/// sample overlaps with writing the previous one, and at most two samples are held in memory.
/// `progress` sees each sample after it is rendered, before it is written.
pub fn generate_dataset(
    synth: &Synth,
    start: u64,
    count: u64,
    out: &Path,
    mut progress: impl FnMut(&Sample),
) -> Result<Stats, SynthError> {
    synth.config.validate()?;
    std::fs::create_dir_all(out).map_err(|e| SynthError::Io { path: out.to_path_buf(), source: e })?;
    let t0 = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<Sample>(1);
    let out_buf = out.to_path_buf();
    let writer = std::thread::spawn(move || -> Result<Vec<u64>, SynthError> {
        let mut done = Vec::new();
        for s in rx {
            let dir = out_buf.join(&s.meta.id);
            s.write(&dir)?;
            done.push(s.meta.index);
        }
        Ok(done)
    });
    let mut send_err = false;
    for i in start..start + count {
        let s = synth.render(i);
        progress(&s);
        if tx.send(s).is_err() {
            send_err = true;
            break;
        }
    }
    drop(tx);
    let res = writer.join().map_err(|_| SynthError::Invalid("writer thread panicked".into()))?;
    let done = res?;
    if send_err || done.len() as u64 != count {
        return Err(SynthError::Invalid("writer stopped early".into()));
    }
    let secs = t0.elapsed().as_secs_f64();
    Ok(Stats { count, seconds: secs, setup_seconds: 0.0, samples_per_second: count as f64 / secs.max(1e-9) })
}

/// Default photo folder: `$PEEL_SHARED/data/photos` if set, else `<repo>/../shared/data/photos`
/// (found from the current directory or this crate's location).
pub fn default_photo_dir() -> Option<PathBuf> {
    if let Ok(s) = std::env::var("PEEL_SHARED") {
        let p = PathBuf::from(s).join("data/photos");
        return p.is_dir().then_some(p);
    }
    let mut cands: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        for a in cwd.ancestors() {
            cands.push(a.join("../shared/data/photos"));
            if a.join("Cargo.lock").exists() {
                break;
            }
        }
    }
    cands.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/photos"));
    cands.into_iter().find(|p| p.is_dir())
}
