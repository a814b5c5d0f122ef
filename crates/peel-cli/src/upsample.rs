//! `peel upsample TASK PAINTING --guide PHOTO --out OUT [--method guided|resize] [--speck-share S]`: bring
//! a low-resolution painting to the photo's size exactly as `peel run` and the page do (instance and
//! referring paintings lose their specks first: `peel_model::despeckle`).
//!
//! For paintings made elsewhere (the Python evaluation paints with the PyTorch mirror), so that
//! they are scored as users see them. A one-line JSON summary goes to stdout.

use std::path::PathBuf;

use peel_model::Upsampling;
use peel_model::preprocess::{SPECK_SHARE, finish};
use peel_protocol::prompt::Task;
use serde_json::json;

use crate::error::{CliError, CliResult, Context, print_line};
use crate::io;
use crate::tasks::TaskArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What the painting visualizes (segmentation keeps only painted colours; depth and normals blend).
    #[arg(value_enum)]
    pub task: TaskArg,
    /// The painting (an RGB image, any size).
    pub painting: PathBuf,
    /// The photo it was painted from; the result has its size.
    #[arg(long)]
    pub guide: PathBuf,
    /// Output image (PNG recommended: lossless).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = UpsampleArg::Guided)]
    pub method: UpsampleArg,
    /// Instance and referring paintings: pieces of one colour under this share of the painting are
    /// repainted from their surroundings, as the app does; 0 keeps them (the painter's raw output).
    #[arg(long, default_value_t = SPECK_SHARE, allow_hyphen_values = true)]
    pub speck_share: f64,
}

pub fn run(args: Args) -> CliResult {
    if !(0.0..=1.0).contains(&args.speck_share) {
        return Err(CliError::msg(format!("--speck-share {}: a share of the painting, between 0 and 1", args.speck_share)));
    }
    image::ImageFormat::from_path(&args.out)
        .map_err(|_| CliError::msg(format!("--out {}: unknown image extension (use .png)", args.out.display())))?;
    let painting = io::open_image(&args.painting)?;
    if !io::is_colour(&painting) {
        return Err(CliError::msg(format!("{}: a painting is an RGB image, not grey", args.painting.display())));
    }
    let photo = io::open_image(&args.guide)?.to_rgb8();
    let task = Task::from(args.task);
    let result = finish(painting.to_rgb8(), &photo, task, args.method.into(), args.speck_share);
    result.save(&args.out).context(args.out.display())?;
    let summary = json!({
        "task": task.name(),
        "painting": [painting.width(), painting.height()],
        "width": result.width(),
        "height": result.height(),
        "method": format!("{:?}", args.method).to_lowercase(),
        "out": args.out.display().to_string(),
    });
    print_line(&summary.to_string())
}

/// `--upsample`: see `peel_model::preprocess::Upsampling`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsampleArg {
    /// Joint bilateral upsampling guided by the photo: painted edges follow the photo's.
    Guided,
    /// Photo-blind: nearest neighbour for segmentation, bilinear for depth and normals.
    Resize,
}

impl From<UpsampleArg> for Upsampling {
    fn from(arg: UpsampleArg) -> Self {
        match arg {
            UpsampleArg::Guided => Upsampling::Guided,
            UpsampleArg::Resize => Upsampling::Resize,
        }
    }
}
