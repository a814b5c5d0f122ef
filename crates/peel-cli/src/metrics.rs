//! `peel metrics TASK --pred P --gt G [--pred P2 --gt G2 ...]`: score predictions, print JSON.
//!
//! Predictions may be the generated visualizations (decoded here; semantic, instance and
//! referring need `--prompt`) or already-decoded files; ground truth is values:
//! - depth: `.npy` / `.pfm` / 16-bit mm PNG (0 = invalid) or a colour visualization;
//! - normals: `.npy` (H, W, 3) or a colour visualization (all-zero ground truth = invalid);
//! - semantic: grey index PNGs (ground truth `--ignore-index`, default 255, is skipped);
//! - referring: grey masks (non-zero = inside); a colour prediction uses the union of its targets;
//! - instance: grey id maps (0 = background).
//!
//! Pairs are matched in order; depth is averaged per image, the rest pooled over all pairs.

use std::path::{Path, PathBuf};

use peel_protocol::color::Rgb8;
use peel_protocol::depth::DepthCodec;
use peel_protocol::metrics::{depth, instance, normals, referring, semantic};
use peel_protocol::prompt::{Request, Task};
use peel_protocol::segmentation;
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

/// Grey images load as values; colour ones are decoded with the prompt.
fn load_labels_or_decode(
    path: &Path,
    decode: impl FnOnce(&Grid<u8>) -> CliResult<Vec<u16>>,
) -> CliResult<Grid<u16>> {
    let img = io::open_image(path)?;
    if !io::is_colour(&img) {
        return Ok(io::grey_labels(&img));
    }
    let rgb = io::rgb8(&img);
    let data = decode(&rgb).context(path.display())?;
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
    let palette: Option<Vec<Rgb8>> = match request {
        Some(Request::Semantic { classes }) => Some(classes.iter().map(|c| c.color).collect()),
        _ => None,
    };
    let mut loaded = Vec::new();
    for &(pred_path, gt_path) in pairs {
        let pred = load_labels_or_decode(pred_path, |rgb| {
            let palette = palette.as_ref().ok_or_else(|| missing_prompt(Task::Semantic))?;
            Ok(segmentation::semantic::decode(&rgb.data, rgb.width, rgb.height, palette, args.tolerance)?.labels)
        })?;
        let gt = load_grey(gt_path)?;
        same_size(&pred, &gt, pred_path, gt_path)?;
        loaded.push((pred, gt));
    }
    let num_classes = match (args.num_classes, &palette) {
        (Some(n), _) => n,
        (None, Some(p)) => p.len(),
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
    let mut acc = referring::ReferringAccumulator::new();
    let mut per_sample = Vec::new();
    for &(pred_path, gt_path) in pairs {
        let pred = load_labels_or_decode(pred_path, |rgb| {
            let Some(Request::Referring { targets, background }) = request else {
                return Err(missing_prompt(Task::Referring));
            };
            let colours: Vec<Rgb8> = targets.iter().map(|t| t.color).collect();
            let masks = segmentation::referring::decode(&rgb.data, rgb.width, rgb.height, &colours, *background, args.tolerance)?;
            Ok(masks.union().into_iter().map(u16::from).collect())
        })?;
        let gt = load_grey(gt_path)?;
        same_size(&pred, &gt, pred_path, gt_path)?;
        let to_mask = |g: &Grid<u16>| g.data.iter().map(|&v| v != 0).collect::<Vec<bool>>();
        per_sample.push(acc.add(&to_mask(&pred), &to_mask(&gt))?);
    }
    let m = acc.metrics();
    Ok(json!({"ciou": m.ciou, "giou": m.giou, "samples": m.samples, "per_sample_iou": per_sample}))
}

fn instance_metrics(args: &Args, request: Option<&Request>, pairs: &[(&Path, &Path)]) -> CliResult<Value> {
    let params = args.instance.params();
    let mut acc = instance::InstanceAccumulator::new();
    for &(pred_path, gt_path) in pairs {
        let pred = load_labels_or_decode(pred_path, |rgb| {
            let Some(Request::Instance { background, .. }) = request else {
                return Err(missing_prompt(Task::Instance));
            };
            Ok(segmentation::instance::decode(&rgb.data, rgb.width, rgb.height, *background, &params)?.ids)
        })?;
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
