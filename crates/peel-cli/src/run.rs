//! `peel run IMAGE --prompt TEXT --out VIZ.png [--decoded OUT] [--weights DIR] [--upsample guided|resize]`:
//! paint a photo with the generator on the CPU (Burn's flex backend).
//!
//! The visualization is written at the photo's size, enlarged from the half-resolution painting
//! as the page does (guided by the photo's edges; `--upsample resize` for the plain resize). `--decoded` also decodes it as `peel decode`
//! does: depth → `.npy` / `.png` (16-bit mm) / `.pfm` / `.ply` (points coloured by the photo,
//! `--fov` degrees wide); normals → `.npy`; semantic, instance and
//! referring → the label-map PNG with its JSON legend beside it (name either the `.png` or the `.json`).
//! Weights: `--weights`, else `$PEEL_WEIGHTS`, else the repository's `weights/`.
//! A one-line JSON summary (task, sizes, timings) goes to stdout.

use std::path::{Path, PathBuf};
use std::time::Instant;

use peel_model::{Device, Generator};
use peel_protocol::prompt::{self, Task};
use serde_json::json;

use crate::decode;
use crate::error::{CliError, CliResult, Context, print_line};
use crate::io::{self, Grid};
use crate::upsample::UpsampleArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The photo (PNG, JPEG, ...).
    pub image: PathBuf,
    /// What to paint, in the prompt language (see docs/PROTOCOL.md).
    #[arg(long)]
    pub prompt: String,
    /// The painted visualization; the extension picks the format (PNG recommended: lossless).
    #[arg(long)]
    pub out: PathBuf,
    /// Also decode the painting into values here (format by extension, as `peel decode`).
    #[arg(long)]
    pub decoded: Option<PathBuf>,
    /// `--decoded x.ply`: the camera's horizontal field of view in degrees.
    #[arg(long, default_value_t = peel_protocol::export::DEFAULT_FOV_DEG)]
    pub fov: f32,
    /// Segmentation with `--decoded`: also write one mask PNG per legend entry into this folder.
    #[arg(long)]
    pub masks: Option<PathBuf>,
    /// Folder with manifest.json and the files it names (default: $PEEL_WEIGHTS, else the repo's weights/).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// How the half-resolution painting is brought to the photo's size.
    #[arg(long, value_enum, default_value_t = UpsampleArg::Guided)]
    pub upsample: UpsampleArg,
}

fn default_weights() -> PathBuf {
    std::env::var_os("PEEL_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../weights"))
}

/// Where `decode` writes for `--decoded PATH`: segmentation accepts the legend's `.json` name too.
fn decoded_target(task: Task, path: &Path) -> CliResult<PathBuf> {
    let allowed = decode::output_extensions(task);
    let ext = io::extension(path);
    let segmentation = matches!(task, Task::Semantic | Task::Instance | Task::Referring);
    if segmentation && ext == "json" {
        return Ok(path.with_extension("png"));
    }
    if !allowed.contains(&ext.as_str()) {
        let mut names: Vec<String> = allowed.iter().map(|e| format!(".{e}")).collect();
        if segmentation {
            names.push(".json".into());
        }
        return Err(CliError::msg(format!(
            "--decoded {}: {task} decodes to {}, not {ext:?}",
            path.display(),
            names.join(" or ")
        )));
    }
    Ok(path.to_path_buf())
}

/// Whether two paths name the same file (either may not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        dir.canonicalize().ok().map(|d| d.join(p.file_name().unwrap_or_default()))
    };
    a == b || matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

pub fn run(args: Args) -> CliResult {
    // Everything that can be checked cheaply is checked before the model loads.
    let request = prompt::parse(&args.prompt).context("--prompt")?;
    let task = request.task();
    image::ImageFormat::from_path(&args.out)
        .map_err(|_| CliError::msg(format!("--out {}: unknown image extension (use .png)", args.out.display())))?;
    let decoded = args.decoded.as_deref().map(|p| decoded_target(task, p)).transpose()?;
    if decoded.as_deref().is_some_and(|d| same_file(d, &args.out)) {
        return Err(CliError::msg(format!(
            "--decoded would overwrite --out {}: give them different names",
            args.out.display()
        )));
    }
    let photo = io::open_image(&args.image)?.to_rgb8();

    let dir = args.weights.clone().unwrap_or_else(default_weights);
    let start = Instant::now();
    let generator = Generator::load_dir(&dir, &Device::flex()).context(format!("weights {}", dir.display()))?;
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;

    let start = Instant::now();
    let painting = generator.paint_with(&photo, &request, args.upsample.into())?;
    let inference_ms = start.elapsed().as_secs_f64() * 1000.0;
    painting.save(&args.out).context(args.out.display())?;

    let manifest = generator.manifest();
    let (model_w, model_h) = peel_model::preprocess::model_size(photo.width(), photo.height(), manifest.input_long_side_for(task.name()));
    let mut summary = json!({
        "task": task.name(),
        "width": photo.width(),
        "height": photo.height(),
        "model_input": [model_w, model_h],
        "upsample": format!("{:?}", args.upsample).to_lowercase(),
        "model": manifest.name,
        "placeholder": manifest.placeholder,
        "load_ms": (load_ms * 10.0).round() / 10.0,
        "inference_ms": (inference_ms * 10.0).round() / 10.0,
        "out": args.out.display().to_string(),
    });
    if let Some(target) = decoded {
        let (width, height) = painting.dimensions();
        let rgb = Grid { width, height, data: painting.into_raw() };
        let photo = if photo.dimensions() == (width, height) {
            photo.into_raw()
        } else {
            image::imageops::resize(&photo, width, height, image::imageops::FilterType::Triangle).into_raw()
        };
        let options = decode::Options {
            fov: args.fov,
            photo: Some(Grid { width, height, data: photo }),
            masks: args.masks.clone(),
            ..decode::Options::default()
        };
        summary["decoded"] = decode::decode(&rgb, &request, &options, &target)?;
    }
    print_line(&serde_json::to_string(&summary).map_err(CliError::msg)?)
}
