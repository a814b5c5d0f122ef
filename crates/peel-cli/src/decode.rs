//! `peel decode TASK IMAGE [--prompt TEXT] --out PATH`: a visualization image back into values.
//!
//! The values come from `peel_protocol::decode::decode_painting` and the file bytes from
//! `peel_protocol::export`, called exactly as the page's worker and download buttons call them, so
//! the files are the page's files, byte for byte (the browser test "One decode" checks it). This
//! module only picks the request (prompt, flags, defaults) and the file formats:
//!
//! depth → `.npy` (float32 m), `.png` (16-bit mm, 0 = sky), `.pfm` or `.ply` (a coloured point
//! cloud: `--fov` degrees wide, colours from `--photo`, else from the visualization); normals →
//! `.npy` (H, W, 3); semantic / instance / referring → the label-map PNG (0 = none, i = legend
//! entry i) plus the JSON legend beside it (`OUT.json`), and with `--masks DIR` one PNG per legend
//! entry, named as the legend's `mask_file` says. A JSON summary goes to stdout.

use std::path::{Path, PathBuf};

use peel_protocol::decode::{DecodeOptions, Decoded, Summary, Values, decode_painting};
use peel_protocol::depth::DepthCodec;
use peel_protocol::export;
use peel_protocol::prompt::{self, DEFAULT_BACKGROUND, Request, Task};
use peel_protocol::segmentation::{DEFAULT_TOLERANCE, instance};
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
    /// Colour tolerance for semantic and referring decoding, in 8-bit RGB units (the page uses the default).
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
    /// folder, named as the legend's `mask_file` says (`peel-TASK-mask-NN-NAME.png`, NN = the
    /// entry's label), as the page names its downloads.
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

/// The request `peel decode TASK` decodes for: the prompt's (it must ask for `task`), with the
/// `--lambda/--c` flags applied to depth. Without a prompt: depth with the paper's codec (or the
/// flags'), normals, and instances of "object" on black; semantic and referring need one (it
/// assigns the colours).
pub fn request_for(task: Task, prompt: Option<Request>, codec: &CodecArgs) -> CliResult<Request> {
    Ok(match (task, prompt) {
        (Task::Depth, prompt) => {
            let base = match prompt {
                Some(Request::Depth(codec)) => codec,
                _ => DepthCodec::default(),
            };
            Request::Depth(codec.codec(base)?)
        }
        (_, Some(request)) => request,
        (Task::Normals, None) => Request::Normals,
        (Task::Instance, None) => Request::Instance { class: "object".into(), background: DEFAULT_BACKGROUND },
        (Task::Semantic | Task::Referring, None) => {
            return Err(CliError::msg(format!("decoding {task} needs --prompt (it assigns the colours)")));
        }
    })
}

pub fn run(args: Args) -> CliResult {
    let task = Task::from(args.task);
    let request = request_for(task, parse_prompt(args.prompt.as_deref(), task)?, &args.codec)?;
    check_extension(task, &args.out)?;
    let img = io::open_image(&args.image)?;
    let rgb = io::rgb8(&img);
    let photo = match &args.photo {
        Some(path) => Some(photo_colours(path, rgb.width, rgb.height)?),
        None => None,
    };
    let options = Options {
        decode: DecodeOptions { tolerance: args.tolerance, instance: args.instance.params() },
        fov: args.fov,
        photo,
        masks: args.masks,
    };
    let summary = decode(&rgb, &request, &options, &args.out)?;
    print_line(&serde_json::to_string(&summary).map_err(CliError::msg)?)
}

/// Settings besides the request.
pub struct Options {
    /// The decoder's settings (the page uses the defaults).
    pub decode: DecodeOptions,
    /// Horizontal field of view of `.ply` point clouds, degrees.
    pub fov: f32,
    /// The photo at the visualization's size (RGB): the colours of `.ply` points.
    pub photo: Option<Grid<u8>>,
    /// Segmentation: a folder for one mask PNG per legend entry.
    pub masks: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self { decode: DecodeOptions::default(), fov: export::DEFAULT_FOV_DEG, photo: None, masks: None }
    }
}

/// The photo at `path` as RGB at `width`×`height` (resized with a triangle filter if it differs).
pub fn photo_colours(path: &Path, width: u32, height: u32) -> CliResult<Grid<u8>> {
    let mut photo = io::open_image(path)?.to_rgb8();
    if photo.dimensions() != (width, height) {
        photo = image::imageops::resize(&photo, width, height, image::imageops::FilterType::Triangle);
    }
    Ok(Grid { width, height, data: photo.into_raw() })
}

/// The output extensions `decode` writes for `task` (segmentation: the label-map PNG, legend beside it).
pub fn output_extensions(task: Task) -> &'static [&'static str] {
    match task {
        Task::Depth => &["npy", "png", "pfm", "ply"],
        Task::Normals => &["npy"],
        Task::Semantic | Task::Instance | Task::Referring => &["png"],
    }
}

/// Refuses an output extension `task` does not write.
pub fn check_extension(task: Task, out: &Path) -> CliResult {
    if output_extensions(task).contains(&io::extension(out).as_str()) {
        return Ok(());
    }
    Err(match task {
        Task::Depth => unsupported(out, "depth", ".npy, .png (16-bit mm), .pfm or .ply"),
        Task::Normals => CliError::msg(format!("{}: normals are written as .npy", out.display())),
        Task::Semantic | Task::Instance | Task::Referring => unsupported(out, "label map", ".png"),
    })
}

fn unsupported(out: &Path, what: &str, allowed: &str) -> CliError {
    CliError::msg(format!(
        "{}: unsupported {what} output extension {:?}: expected {allowed}",
        out.display(),
        io::extension(out)
    ))
}

/// Where the legend of the label map `out` goes: beside it, with `.json`.
pub fn legend_path(out: &Path) -> PathBuf {
    out.with_extension("json")
}

/// Adds the fields of the JSON object `fields` to the object `into`.
fn merge(into: &mut Value, fields: Value) {
    if let (Some(into), Value::Object(fields)) = (into.as_object_mut(), fields) {
        into.extend(fields);
    }
}

/// Decodes the visualization `rgb`, painted for `request`, with the decoder the page uses; writes
/// `out` (format by extension) as the page's download of the same values would be, and for
/// segmentation the legend beside it and, with `options.masks`, the mask PNGs; returns the JSON
/// summary (the decoder's summary, or for segmentation the legend, plus the paths written).
pub fn decode(rgb: &Grid<u8>, request: &Request, options: &Options, out: &Path) -> CliResult<Value> {
    let task = request.task();
    check_extension(task, out)?;
    let decoded = decode_painting(request, &rgb.data, rgb.width, rgb.height, &options.decode)?;
    let Decoded { width: w, height: h, values, segments, summary } = decoded;
    let mut report = json!({"task": task.name(), "prompt": request.to_prompt(), "width": w, "height": h});
    match (values, summary) {
        (Values::Depth(meters), Summary::Depth(s)) => {
            if let Request::Depth(codec) = request {
                merge(&mut report, json!({"lambda": codec.lambda, "c": codec.c}));
            }
            merge(&mut report, serde_json::to_value(s).map_err(CliError::msg)?);
            let bytes = match io::extension(out).as_str() {
                "npy" => export::depth_npy(&meters, w, h)?,
                "png" => export::depth_png_mm(&meters, w, h)?,
                "pfm" => export::depth_pfm(&meters, w, h)?,
                _ => {
                    let colours = options.photo.as_ref().map_or(&rgb.data, |p| &p.data);
                    let (bytes, points) = export::depth_ply(&meters, colours, w, h, options.fov)?;
                    let source = if options.photo.is_some() { "photo" } else { "visualization" };
                    merge(&mut report, json!({"points": points, "fov_deg": options.fov, "colours": source}));
                    bytes
                }
            };
            io::write_bytes(out, &bytes)?;
        }
        (Values::Normals(xyz), Summary::Normals(s)) => {
            merge(&mut report, serde_json::to_value(s).map_err(CliError::msg)?);
            io::write_bytes(out, &export::normals_npy(&xyz, w, h)?)?;
        }
        (Values::Labels(labels), Summary::Segments(s)) => {
            io::write_bytes(out, &export::label_png(&labels, w, h)?.bytes)?;
            let legend = export::legend_json(task.name(), w, h, &segments);
            let legend_file = legend_path(out);
            io::write_bytes(&legend_file, &legend)?;
            if let Some(dir) = &options.masks {
                std::fs::create_dir_all(dir).context(dir.display())?;
                for (i, segment) in segments.iter().enumerate() {
                    let label = u16::try_from(i + 1).map_err(CliError::msg)?;
                    let path = dir.join(export::mask_download_name(task.name(), label, &segment.name));
                    io::write_bytes(&path, &export::mask_png(&labels, w, h, label)?)?;
                }
                report["masks"] = json!(dir.display().to_string());
            }
            merge(&mut report, serde_json::from_slice(&legend).map_err(CliError::msg)?);
            merge(&mut report, serde_json::to_value(s).map_err(CliError::msg)?);
            report["legend"] = json!(legend_file.display().to_string());
        }
        _ => return Err(CliError::msg("the decoder returned a summary of another task")),
    }
    report["out"] = json!(out.display().to_string());
    Ok(report)
}
