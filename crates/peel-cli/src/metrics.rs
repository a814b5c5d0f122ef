//! `peel metrics TASK --pred P --gt G [--pred P2 --gt G2 ...]`: score predictions, print JSON.
//!
//! Predictions may be the generated visualizations (decoded here as `peel decode` and the page
//! decode them, `peel_protocol::decode::decode_painting`; semantic, instance and referring need
//! `--prompt`) or already-decoded files; ground truth is values:
//! - depth: `.npy` / `.pfm` / 16-bit mm PNG (0 = invalid) or a colour visualization;
//! - normals: `.npy` (H, W, 3) or a colour visualization (all-zero ground truth = invalid);
//! - semantic: a grey prediction is a label map as `peel decode` and the page write it (0 = none,
//!   i = class i of the prompt, counted from 1); ground truth is a grey index PNG of 0-based class
//!   indices (`--ignore-index`, default 255, is skipped), as datasets ship them;
//! - referring: grey masks (non-zero = inside); a colour prediction uses the union of its targets;
//! - instance: grey id maps (0 = background).
//!
//! Pairs are matched in order; depth is averaged per image, the rest pooled over all pairs.

use std::path::{Path, PathBuf};

use peel_protocol::decode::{DecodeOptions, Values, decode_painting};
use peel_protocol::depth::DepthCodec;
use peel_protocol::metrics::{depth, instance, normals, referring, semantic};
use peel_protocol::prompt::{Request, Task};
use peel_protocol::segmentation::{self, UNLABELED};
use serde_json::{Value, json};

use crate::decode::{CodecArgs, InstanceArgs, parse_prompt};
use crate::error::{CliError, CliResult, Context, print_line};
use crate::io::{self, Grid};
use crate::tasks::TaskArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_enum)]
    pub task: TaskArg,
    /// Prediction file(s), paired in order with --gt.
    #[arg(long, required = true, num_args = 1..)]
    pub pred: Vec<PathBuf>,
    /// Ground-truth file(s).
    #[arg(long, required = true, num_args = 1..)]
    pub gt: Vec<PathBuf>,
    /// Prompt of the predicted visualizations (needed to decode colour segmentation predictions).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Depth: smallest valid ground-truth depth in metres.
    #[arg(long, default_value_t = 1e-3)]
    pub min_depth: f32,
    /// Depth: largest valid ground-truth depth in metres (predictions are clamped to it).
    #[arg(long, default_value_t = f32::INFINITY)]
    pub max_depth: f32,
    /// Semantic: number of classes (default: the prompt's, else the largest ground-truth label + 1).
    #[arg(long)]
    pub num_classes: Option<usize>,
    /// Semantic: ground-truth label to skip.
    #[arg(long, default_value_t = 255)]
    pub ignore_index: u16,
    /// Colour tolerance when decoding semantic/referring predictions.
    #[arg(long, default_value_t = segmentation::DEFAULT_TOLERANCE)]
    pub tolerance: f32,
    #[command(flatten)]
    pub codec: CodecArgs,
    #[command(flatten)]
    pub instance: InstanceArgs,
}

pub fn run(args: Args) -> CliResult {
    if args.pred.len() != args.gt.len() {
        return Err(CliError::msg(format!(
            "{} predictions but {} ground truths: pass them in pairs",
            args.pred.len(),
            args.gt.len()
        )));
    }
    let task = Task::from(args.task);
    let request = parse_prompt(args.prompt.as_deref(), task)?;
    let pairs: Vec<(&Path, &Path)> = args.pred.iter().map(PathBuf::as_path).zip(args.gt.iter().map(PathBuf::as_path)).collect();
    let metrics = match task {
        Task::Depth => depth_metrics(&args, request.as_ref(), &pairs)?,
        Task::Normals => normal_metrics(&pairs)?,
        Task::Semantic => semantic_metrics(&args, request.as_ref(), &pairs)?,
        Task::Referring => referring_metrics(&args, request.as_ref(), &pairs)?,
        Task::Instance => instance_metrics(&args, request.as_ref(), &pairs)?,
    };
    let report = json!({"task": task.name(), "pairs": pairs.len(), "metrics": metrics});
    print_line(&serde_json::to_string_pretty(&report).map_err(CliError::msg)?)
}

fn same_size<A, B>(pred: &Grid<A>, gt: &Grid<B>, pred_path: &Path, gt_path: &Path) -> CliResult {
    if (pred.width, pred.height) != (gt.width, gt.height) {
        return Err(CliError::msg(format!(
            "size mismatch: {} is {}x{} but {} is {}x{}",
            pred_path.display(),
            pred.width,
            pred.height,
            gt_path.display(),
            gt.width,
            gt.height
        )));
    }
    Ok(())
}

fn depth_json(m: &depth::DepthMetrics) -> Value {
    json!({
        "abs_rel": m.abs_rel, "sq_rel": m.sq_rel, "rmse": m.rmse, "rmse_log": m.rmse_log, "silog": m.silog,
        "delta1": m.delta1, "delta2": m.delta2, "delta3": m.delta3, "valid_pixels": m.valid_pixels,
    })
}

fn depth_metrics(args: &Args, request: Option<&Request>, pairs: &[(&Path, &Path)]) -> CliResult<Value> {
    let base = match request {
        Some(Request::Depth(codec)) => *codec,
        _ => DepthCodec::default(),
    };
    let codec = args.codec.codec(base)?;
    let config = depth::DepthEvalConfig { min_depth: args.min_depth, max_depth: args.max_depth };
    let mut per_image = Vec::new();
    for &(pred_path, gt_path) in pairs {
        let pred = io::load_depth(pred_path, Some(&codec))?;
        let gt = io::load_depth(gt_path, Some(&codec))?;
        same_size(&pred, &gt, pred_path, gt_path)?;
        per_image.push(depth::evaluate(&pred.data, &gt.data, None, &config).context(gt_path.display())?);
    }
    let mean = depth::mean(&per_image).ok_or_else(|| CliError::msg("no image pairs"))?;
    let mut out = depth_json(&mean);
    out["per_image"] = per_image.iter().map(depth_json).collect();
    Ok(out)
}

fn normal_metrics(pairs: &[(&Path, &Path)]) -> CliResult<Value> {
    let mut acc = normals::NormalAccumulator::new();
    for &(pred_path, gt_path) in pairs {
        let pred = io::load_normals(pred_path)?;
        let gt = io::load_normals(gt_path)?;
        same_size(&pred, &gt, pred_path, gt_path)?;
        acc.add(&pred.data, &gt.data, None)?;
    }
    let m = acc.finish()?;
    Ok(json!({
        "mean_deg": m.mean, "median_deg": m.median, "rmse_deg": m.rmse,
        "pct_within_11_25": m.within_11_25, "pct_within_22_5": m.within_22_5, "pct_within_30": m.within_30,
        "valid_pixels": m.valid_pixels,
    }))
}

/// A segmentation prediction as a label map (0 = none, i = the request's entry i): a grey image
/// as it is (`peel decode` and the page write them so), a colour one decoded as `peel decode` does.
fn load_prediction_labels(path: &Path, task: Task, request: Option<&Request>, options: &DecodeOptions) -> CliResult<Grid<u16>> {
    let img = io::open_image(path)?;
    if !io::is_colour(&img) {
        return Ok(io::grey_labels(&img));
    }
    let request = request.ok_or_else(|| missing_prompt(task))?;
    let rgb = io::rgb8(&img);
    let decoded = decode_painting(request, &rgb.data, rgb.width, rgb.height, options).context(path.display())?;
    let Values::Labels(data) = decoded.values else {
        return Err(CliError::msg(format!("{}: {task} decodes to no label map", path.display())));
    };
    Ok(Grid { width: rgb.width, height: rgb.height, data })
}

fn load_grey(path: &Path) -> CliResult<Grid<u16>> {
    let img = io::open_image(path)?;
    if io::is_colour(&img) {
        return Err(CliError::msg(format!("{}: ground truth must be a grey index image, found colour", path.display())));
    }
    Ok(io::grey_labels(&img))
}

fn missing_prompt(task: Task) -> CliError {
    CliError::msg(format!("colour {task} predictions need --prompt to decode"))
}

fn semantic_metrics(args: &Args, request: Option<&Request>, pairs: &[(&Path, &Path)]) -> CliResult<Value> {
    let classes = match request {
        Some(Request::Semantic { classes }) => Some(classes.len()),
        _ => None,
    };
    let options = DecodeOptions { tolerance: args.tolerance, ..DecodeOptions::default() };
    let mut loaded = Vec::new();
    for &(pred_path, gt_path) in pairs {
        let mut pred = load_prediction_labels(pred_path, Task::Semantic, request, &options)?;
        // Label i is class i − 1; 0 (none of the classes) counts as wrong wherever it is scored.
        for label in &mut pred.data {
            *label = label.checked_sub(1).unwrap_or(UNLABELED);
        }
        let gt = load_grey(gt_path)?;
        same_size(&pred, &gt, pred_path, gt_path)?;
        loaded.push((pred, gt));
    }
    let num_classes = match (args.num_classes, classes) {
        (Some(n), _) => n,
        (None, Some(n)) => n,
        (None, None) => loaded
            .iter()
            .flat_map(|(_, gt)| gt.data.iter().copied())
            .filter(|&l| l != args.ignore_index)
            .max()
            .map_or(1, |l| usize::from(l) + 1),
    };
    let mut cm = semantic::ConfusionMatrix::new(num_classes)?;
    for ((pred, gt), &(_, gt_path)) in loaded.iter().zip(pairs) {
        cm.add(&pred.data, &gt.data, Some(args.ignore_index)).context(gt_path.display())?;
    }
    let m = cm.metrics();
    Ok(json!({
        "miou": m.miou, "pixel_accuracy": m.pixel_accuracy, "per_class_iou": m.per_class_iou,
        "num_classes": num_classes, "ignore_index": args.ignore_index, "valid_pixels": m.valid_pixels,
    }))
}

fn referring_metrics(args: &Args, request: Option<&Request>, pairs: &[(&Path, &Path)]) -> CliResult<Value> {
    let options = DecodeOptions { tolerance: args.tolerance, ..DecodeOptions::default() };
    let mut acc = referring::ReferringAccumulator::new();
    let mut per_sample = Vec::new();
    for &(pred_path, gt_path) in pairs {
        // Any target counts as inside (a colour prediction: the union of its targets' masks).
        let pred = load_prediction_labels(pred_path, Task::Referring, request, &options)?;
        let gt = load_grey(gt_path)?;
        same_size(&pred, &gt, pred_path, gt_path)?;
        let to_mask = |g: &Grid<u16>| g.data.iter().map(|&v| v != 0).collect::<Vec<bool>>();
        per_sample.push(acc.add(&to_mask(&pred), &to_mask(&gt))?);
    }
    let m = acc.metrics();
    Ok(json!({"ciou": m.ciou, "giou": m.giou, "samples": m.samples, "per_sample_iou": per_sample}))
}

fn instance_metrics(args: &Args, request: Option<&Request>, pairs: &[(&Path, &Path)]) -> CliResult<Value> {
    let options = DecodeOptions { instance: args.instance.params(), ..DecodeOptions::default() };
    let mut acc = instance::InstanceAccumulator::new();
    for &(pred_path, gt_path) in pairs {
        let pred = load_prediction_labels(pred_path, Task::Instance, request, &options)?;
        let gt = load_grey(gt_path)?;
        same_size(&pred, &gt, pred_path, gt_path)?;
        acc.add(&pred.data, &gt.data)?;
    }
    let m = acc.metrics();
    Ok(json!({
        "f1": m.f1, "precision": m.precision, "recall": m.recall, "iou_threshold": instance::IOU_THRESHOLD,
        "true_positives": m.true_positives, "false_positives": m.false_positives, "false_negatives": m.false_negatives,
    }))
}
