//! `peel decode TASK IMAGE [--prompt TEXT] --out PATH`: a visualization image back into values.
//!
//! depth → `.npy` (float32 m), `.png` (16-bit mm, 0 = sky), `.pfm` or `.ply` (a coloured point
//! cloud: `--fov` degrees wide, colours from `--photo`, else from the visualization); normals →
//! `.npy` (H, W, 3); semantic / instance / referring → an index PNG plus a JSON legend beside it
//! (`OUT.json`), and with `--masks DIR` one PNG per legend entry. The bytes come from
//! `peel_protocol::export`, which the page uses too. A JSON summary goes to stdout.

use std::path::{Path, PathBuf};

use peel_protocol::color::Rgb8;
use peel_protocol::depth::DepthCodec;
use peel_protocol::export;
use peel_protocol::prompt::{self, DEFAULT_BACKGROUND, Request, Task};
use peel_protocol::segmentation::{DEFAULT_TOLERANCE, LabelMap, UNLABELED, instance, referring, semantic};
use peel_protocol::normals;
use serde_json::{Value, json};

use crate::error::{CliError, CliResult, Context, print_line};
use crate::io::{self, Grid};
use crate::tasks::TaskArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What the image visualizes.
    #[arg(value_enum)]
    pub task: TaskArg,
    /// The generated image (PNG, JPEG, ...).
    pub image: PathBuf,
    /// The prompt the image was generated from (required for semantic and referring).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Output file; its extension picks the format.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub codec: CodecArgs,
    /// Colour tolerance for semantic and referring decoding, in 8-bit RGB units.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE)]
    pub tolerance: f32,
    #[command(flatten)]
    pub instance: InstanceArgs,
    /// Point clouds (`--out x.ply`): the camera's horizontal field of view in degrees.
    #[arg(long, default_value_t = export::DEFAULT_FOV_DEG)]
    pub fov: f32,
    /// Point clouds: the photo whose colours the points take (resized to the visualization if
    /// needed); without it they take the visualization's colours.
    #[arg(long)]
    pub photo: Option<PathBuf>,
    /// Segmentation: also write one mask PNG per legend entry (255 inside, 0 outside) into this
    /// folder, named `mask-NN-NAME.png` with NN the entry's value in the index PNG.
    #[arg(long)]
    pub masks: Option<PathBuf>,
}

/// Depth power-transform parameters (default: the paper's, or the prompt's).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct CodecArgs {
    /// Power-transform λ (< −1); overrides the prompt.
    #[arg(long, allow_hyphen_values = true)]
    pub lambda: Option<f32>,
    /// Power-transform scale c (> 0); overrides the prompt.
    #[arg(long)]
    pub c: Option<f32>,
}

impl CodecArgs {
    pub fn codec(&self, base: DepthCodec) -> CliResult<DepthCodec> {
        let codec = DepthCodec::new(self.lambda.unwrap_or(base.lambda), self.c.unwrap_or(base.c))?;
        Ok(codec)
    }
}

#[derive(clap::Args, Debug, Clone, Copy)]
pub struct InstanceArgs {
    /// Instance decoding: distance to the background colour that still counts as background.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE)]
    pub background_tolerance: f32,
    /// Instance decoding: colour radius of one instance's cluster.
    #[arg(long, default_value_t = 40.0)]
    pub cluster_radius: f32,
    /// Instance decoding: smallest instance in pixels (default max(16, pixels / 10000)).
    #[arg(long)]
    pub min_pixels: Option<usize>,
}

impl InstanceArgs {
    pub fn params(&self) -> instance::InstanceParams {
        instance::InstanceParams {
            background_tolerance: self.background_tolerance,
            cluster_radius: self.cluster_radius,
            min_pixels: self.min_pixels,
        }
    }
}

/// Parses `--prompt` and checks it asks for `task`.
pub fn parse_prompt(text: Option<&str>, task: Task) -> CliResult<Option<Request>> {
    let Some(text) = text else { return Ok(None) };
    let request = prompt::parse(text)?;
    if request.task() != task {
        return Err(CliError::msg(format!("the prompt asks for {}, not {task}", request.task())));
    }
    Ok(Some(request))
}

fn require_prompt(request: Option<Request>, task: Task) -> CliResult<Request> {
    request.ok_or_else(|| CliError::msg(format!("decoding {task} needs --prompt (it assigns the colours)")))
}

pub fn run(args: Args) -> CliResult {
    let task = Task::from(args.task);
    let request = parse_prompt(args.prompt.as_deref(), task)?;
    let img = io::open_image(&args.image)?;
    let rgb = io::rgb8(&img);
    let photo = match &args.photo {
        Some(path) => Some(photo_colours(path, rgb.width, rgb.height)?),
        None => None,
    };
    let options = Options {
        codec: args.codec,
        tolerance: args.tolerance,
        instance: args.instance.params(),
        fov: args.fov,
        photo,
        masks: args.masks,
    };
    let summary = decode(&rgb, task, request, &options, &args.out)?;
    print_line(&serde_json::to_string(&summary).map_err(CliError::msg)?)
}

/// Decoder settings besides the prompt.
pub struct Options {
    /// Depth codec overrides (the prompt's codec, or the paper's, otherwise).
    pub codec: CodecArgs,
    /// Colour tolerance for semantic and referring decoding.
    pub tolerance: f32,
    pub instance: instance::InstanceParams,
    /// Horizontal field of view of `.ply` point clouds, degrees.
    pub fov: f32,
    /// The photo at the visualization's size (RGB): the colours of `.ply` points.
    pub photo: Option<Grid<u8>>,
    /// Segmentation: a folder for one mask PNG per legend entry.
    pub masks: Option<PathBuf>,
}

/// The photo at `path` as RGB at `width`×`height` (resized with a triangle filter if it differs).
pub fn photo_colours(path: &Path, width: u32, height: u32) -> CliResult<Grid<u8>> {
    let mut photo = io::open_image(path)?.to_rgb8();
    if photo.dimensions() != (width, height) {
        photo = image::imageops::resize(&photo, width, height, image::imageops::FilterType::Triangle);
    }
    Ok(Grid { width, height, data: photo.into_raw() })
}

impl Default for Options {
    fn default() -> Self {
        Self {
            codec: CodecArgs { lambda: None, c: None },
            tolerance: DEFAULT_TOLERANCE,
            instance: instance::InstanceParams::default(),
            fov: export::DEFAULT_FOV_DEG,
            photo: None,
            masks: None,
        }
    }
}

/// The output extensions `decode` writes for `task` (segmentation: an index PNG, legend beside it).
pub fn output_extensions(task: Task) -> &'static [&'static str] {
    match task {
        Task::Depth => &["npy", "png", "pfm", "ply"],
        Task::Normals => &["npy"],
        Task::Semantic | Task::Instance | Task::Referring => &["png"],
    }
}

/// Decodes the visualization `rgb` of `task` into `out` (format by extension; segmentation
/// also writes `OUT.json`) and returns the JSON summary. `request` is required for semantic
/// and referring.
pub fn decode(rgb: &Grid<u8>, task: Task, request: Option<Request>, options: &Options, out: &Path) -> CliResult<Value> {
    Ok(match task {
        Task::Depth => {
            let base = match request {
                Some(Request::Depth(codec)) => codec,
                _ => DepthCodec::default(),
            };
            decode_depth(rgb, options.codec.codec(base)?, options, out)?
        }
        Task::Normals => decode_normals(rgb, out)?,
        Task::Semantic => decode_semantic(rgb, &require_prompt(request, task)?, options, out)?,
        Task::Instance => decode_instance(rgb, request.as_ref(), options, out)?,
        Task::Referring => decode_referring(rgb, &require_prompt(request, task)?, options, out)?,
    })
}

fn unsupported(out: &Path, what: &str, allowed: &str) -> CliError {
    CliError::msg(format!(
        "{}: unsupported {what} output extension {:?}: expected {allowed}",
        out.display(),
        io::extension(out)
    ))
}

fn decode_depth(rgb: &Grid<u8>, codec: DepthCodec, options: &Options, out: &Path) -> CliResult<Value> {
    let map = codec.decode_image(&rgb.data, rgb.width, rgb.height)?;
    let mut finite: Vec<f32> = map.meters.iter().copied().filter(|d| d.is_finite()).collect();
    finite.sort_by(f32::total_cmp);
    let median = finite.get(finite.len() / 2).copied();
    let mut summary = json!({
        "task": "depth",
        "width": map.width,
        "height": map.height,
        "lambda": codec.lambda,
        "c": codec.c,
        "median_finite_m": median,
        "sky_fraction": map.sky_fraction(),
        "mean_off_path": map.mean_off_path(),
        "out": out.display().to_string(),
    });
    let (w, h) = (map.width, map.height);
    let bytes = match io::extension(out).as_str() {
        "npy" => export::depth_npy(&map.meters, w, h)?,
        "png" => export::depth_png_mm(&map.meters, w, h)?,
        "pfm" => export::depth_pfm(&map.meters, w, h)?,
        "ply" => {
            let colours = options.photo.as_ref().map_or(&rgb.data, |p| &p.data);
            let (bytes, points) = export::depth_ply(&map.meters, colours, w, h, options.fov)?;
            summary["points"] = json!(points);
            summary["fov_deg"] = json!(options.fov);
            summary["colours"] = json!(if options.photo.is_some() { "photo" } else { "visualization" });
            bytes
        }
        _ => return Err(unsupported(out, "depth", ".npy, .png (16-bit mm), .pfm or .ply")),
    };
    io::write_bytes(out, &bytes)?;
    Ok(summary)
}

fn decode_normals(rgb: &Grid<u8>, out: &Path) -> CliResult<Value> {
    let map = normals::decode_image(&rgb.data, rgb.width, rgb.height)?;
    let n = map.raw_length.len().max(1) as f64;
    let mean_length = map.raw_length.iter().map(|&l| f64::from(l)).sum::<f64>() / n;
    let summary = json!({
        "task": "normals",
        "width": map.width,
        "height": map.height,
        "mean_raw_length": mean_length,
        "out": out.display().to_string(),
    });
    if io::extension(out) != "npy" {
        return Err(CliError::msg(format!("{}: normals are written as .npy", out.display())));
    }
    let flat: Vec<f32> = map.normals.iter().flatten().copied().collect();
    io::write_bytes(out, &export::normals_npy(&flat, map.width, map.height)?)?;
    Ok(summary)
}

fn colour_json(rgb: Rgb8) -> Value {
    json!([rgb[0], rgb[1], rgb[2]])
}

fn legend_path(out: &Path) -> PathBuf {
    out.with_extension("json")
}

/// Writes the index PNG (unlabeled pixels: `unlabeled`, if any), one mask PNG per entry of
/// `entries` (`(value in the index PNG, name)`) if `options.masks` names a folder, and the legend
/// beside the PNG; returns the legend. `list` names the legend's array of entries.
fn write_labels(
    out: &Path,
    labels: LabelMap,
    unlabeled: Option<u16>,
    entries: &[(u16, String)],
    list: &str,
    options: &Options,
    mut legend: Value,
) -> CliResult<Value> {
    if io::extension(out) != "png" {
        return Err(unsupported(out, "label map", ".png"));
    }
    let (w, h) = (labels.width, labels.height);
    let png = export::label_png(&labels.labels, w, h, unlabeled)?;
    io::write_bytes(out, &png.bytes)?;
    if let Some(value) = png.unlabeled {
        legend["unlabeled_value"] = json!(value);
    }
    legend["width"] = json!(w);
    legend["height"] = json!(h);
    if let Some(dir) = &options.masks {
        std::fs::create_dir_all(dir).context(dir.display())?;
        for (i, (value, name)) in entries.iter().enumerate() {
            let path = dir.join(export::mask_file_name(*value, name));
            io::write_bytes(&path, &export::mask_png(&labels.labels, w, h, *value)?)?;
            legend[list][i]["mask"] = json!(path.display().to_string());
        }
    }
    legend["out"] = json!(out.display().to_string());
    io::write_json(&legend_path(out), &legend)?;
    Ok(legend)
}

fn decode_semantic(rgb: &Grid<u8>, request: &Request, options: &Options, out: &Path) -> CliResult<Value> {
    let tolerance = options.tolerance;
    let Request::Semantic { classes } = request else {
        return Err(CliError::msg("expected a semantic prompt"));
    };
    let palette: Vec<Rgb8> = classes.iter().map(|c| c.color).collect();
    let labels = semantic::decode(&rgb.data, rgb.width, rgb.height, &palette, tolerance)?;
    let counts = labels.counts(classes.len());
    let unlabeled_pixels = labels.labels.iter().filter(|&&l| l == UNLABELED).count();
    let entries: Vec<Value> = classes
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, (c, n))| json!({"index": i, "name": c.name, "color": colour_json(c.color), "pixels": n}))
        .collect();
    let legend = json!({
        "task": "semantic",
        "prompt": request.to_prompt(),
        "tolerance": tolerance,
        "classes": entries,
        "unlabeled_pixels": unlabeled_pixels,
    });
    let names: Vec<(u16, String)> = classes.iter().enumerate().map(|(i, c)| (i as u16, c.name.clone())).collect();
    write_labels(out, labels, Some(UNLABELED), &names, "classes", options, legend)
}

fn decode_referring(rgb: &Grid<u8>, request: &Request, options: &Options, out: &Path) -> CliResult<Value> {
    let tolerance = options.tolerance;
    let Request::Referring { targets, background } = request else {
        return Err(CliError::msg("expected a referring prompt"));
    };
    let colours: Vec<Rgb8> = targets.iter().map(|t| t.color).collect();
    let masks = referring::decode(&rgb.data, rgb.width, rgb.height, &colours, *background, tolerance)?;
    let labels = masks.labels();
    let entries: Vec<Value> = targets
        .iter()
        .zip(masks.counts())
        .enumerate()
        .map(|(i, (t, n))| json!({"index": i + 1, "phrase": t.name, "color": colour_json(t.color), "pixels": n}))
        .collect();
    let legend = json!({
        "task": "referring",
        "prompt": request.to_prompt(),
        "tolerance": tolerance,
        "background": colour_json(*background),
        "targets": entries,
    });
    let names: Vec<(u16, String)> = targets.iter().enumerate().map(|(i, t)| (i as u16 + 1, t.name.clone())).collect();
    let labels = LabelMap { width: masks.width, height: masks.height, labels };
    write_labels(out, labels, None, &names, "targets", options, legend)
}

fn decode_instance(rgb: &Grid<u8>, request: Option<&Request>, options: &Options, out: &Path) -> CliResult<Value> {
    let params = &options.instance;
    let (class, background) = match request {
        Some(Request::Instance { class, background }) => (class.clone(), *background),
        _ => ("object".to_string(), DEFAULT_BACKGROUND),
    };
    let map = instance::decode(&rgb.data, rgb.width, rgb.height, background, params)?;
    let entries: Vec<Value> = map
        .instances
        .iter()
        .map(|i| json!({"id": i.id, "color": colour_json(i.color), "pixels": i.pixels, "bbox": i.bbox}))
        .collect();
    let legend = json!({
        "task": "instance",
        "class": class,
        "background": colour_json(background),
        "min_pixels": params.min_pixels_for(map.ids.len()),
        "instances": entries,
    });
    let names: Vec<(u16, String)> = map.instances.iter().map(|i| (i.id, format!("{class} {}", i.id))).collect();
    // Ids start at 1 and 0 is background, so the map needs no unlabeled value.
    let labels = LabelMap { width: map.width, height: map.height, labels: map.ids };
    write_labels(out, labels, None, &names, "instances", options, legend)
}
