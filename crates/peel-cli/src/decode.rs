//! `peel decode TASK IMAGE [--prompt TEXT] --out PATH`: a visualization image back into values.
//!
//! depth → `.npy` (float32 m), `.png` (16-bit mm, 0 = sky) or `.pfm`; normals → `.npy` (H, W, 3);
//! semantic / instance / referring → an index PNG plus a JSON legend beside it (`OUT.json`).
//! A JSON summary goes to stdout.

use std::path::{Path, PathBuf};

use peel_protocol::color::Rgb8;
use peel_protocol::depth::DepthCodec;
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
    let options = Options { codec: args.codec, tolerance: args.tolerance, instance: args.instance.params() };
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
}

impl Default for Options {
    fn default() -> Self {
        Self {
            codec: CodecArgs { lambda: None, c: None },
            tolerance: DEFAULT_TOLERANCE,
            instance: instance::InstanceParams::default(),
        }
    }
}

/// The output extensions `decode` writes for `task` (segmentation: an index PNG, legend beside it).
pub fn output_extensions(task: Task) -> &'static [&'static str] {
    match task {
        Task::Depth => &["npy", "png", "pfm"],
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
            decode_depth(rgb, options.codec.codec(base)?, out)?
        }
        Task::Normals => decode_normals(rgb, out)?,
        Task::Semantic => decode_semantic(rgb, &require_prompt(request, task)?, options.tolerance, out)?,
        Task::Instance => decode_instance(rgb, request.as_ref(), &options.instance, out)?,
        Task::Referring => decode_referring(rgb, &require_prompt(request, task)?, options.tolerance, out)?,
    })
}

fn decode_depth(rgb: &Grid<u8>, codec: DepthCodec, out: &Path) -> CliResult<Value> {
    let map = codec.decode_image(&rgb.data, rgb.width, rgb.height)?;
    let mut finite: Vec<f32> = map.meters.iter().copied().filter(|d| d.is_finite()).collect();
    finite.sort_by(f32::total_cmp);
    let median = finite.get(finite.len() / 2).copied();
    let summary = json!({
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
    io::write_depth(out, &Grid { width: map.width, height: map.height, data: map.meters })?;
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
    io::write_normals_npy(out, &Grid { width: map.width, height: map.height, data: map.normals })?;
    Ok(summary)
}

fn colour_json(rgb: Rgb8) -> Value {
    json!([rgb[0], rgb[1], rgb[2]])
}

fn legend_path(out: &Path) -> PathBuf {
    out.with_extension("json")
}

/// Writes the index PNG and its legend; returns the legend.
fn write_labels(out: &Path, labels: LabelMap, mut legend: Value) -> CliResult<Value> {
    let grid = Grid { width: labels.width, height: labels.height, data: labels.labels };
    let unlabeled = io::write_index_png(out, &grid, UNLABELED)?;
    legend["unlabeled_value"] = json!(unlabeled);
    legend["width"] = json!(grid.width);
    legend["height"] = json!(grid.height);
    legend["out"] = json!(out.display().to_string());
    io::write_json(&legend_path(out), &legend)?;
    Ok(legend)
}

fn decode_semantic(rgb: &Grid<u8>, request: &Request, tolerance: f32, out: &Path) -> CliResult<Value> {
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
    write_labels(out, labels, legend)
}

fn decode_referring(rgb: &Grid<u8>, request: &Request, tolerance: f32, out: &Path) -> CliResult<Value> {
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
    write_labels(out, LabelMap { width: masks.width, height: masks.height, labels }, legend)
}

fn decode_instance(rgb: &Grid<u8>, request: Option<&Request>, params: &instance::InstanceParams, out: &Path) -> CliResult<Value> {
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
    let grid = Grid { width: map.width, height: map.height, data: map.ids };
    if io::extension(out) != "png" {
        return Err(CliError::msg(format!("{}: instance maps are written as .png", out.display())));
    }
    let mut legend = legend;
    legend["out"] = json!(out.display().to_string());
    legend["width"] = json!(grid.width);
    legend["height"] = json!(grid.height);
    // Ids start at 1 and 0 is background, so the map needs no unlabeled value.
    io::write_index_png(out, &grid, u16::MAX).context(out.display())?;
    io::write_json(&legend_path(out), &legend)?;
    Ok(legend)
}
