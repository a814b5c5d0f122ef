//! `peel encode depth|normals IN OUT.png`: values into a visualization image (training targets).
//!
//! depth input: `.npy` (H, W) metres, `.pfm`, or a 16-bit millimetre PNG; normals input: `.npy` (H, W, 3).

use std::path::PathBuf;

use peel_protocol::depth::DepthCodec;
use peel_protocol::normals;

use crate::decode::CodecArgs;
use crate::error::{CliResult, Context};
use crate::io;
use crate::tasks::EncodeTask;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_enum)]
    pub task: EncodeTask,
    /// Values to encode.
    pub input: PathBuf,
    /// The image to write (8-bit RGB; PNG recommended, JPEG is lossy).
    pub output: PathBuf,
    #[command(flatten)]
    pub codec: CodecArgs,
}

pub fn run(args: Args) -> CliResult {
    let (rgb, width, height) = match args.task {
        EncodeTask::Depth => {
            let depth = io::load_depth(&args.input, None)?;
            let codec = args.codec.codec(DepthCodec::default())?;
            (codec.encode_image(&depth.data, depth.width, depth.height).context(args.input.display())?, depth.width, depth.height)
        }
        EncodeTask::Normals => {
            let n = io::load_normals_values(&args.input)?;
            let flat: Vec<f32> = n.data.iter().flatten().copied().collect();
            (normals::encode_image(&flat, n.width, n.height).context(args.input.display())?, n.width, n.height)
        }
    };
    io::write_rgb(&args.output, rgb, width, height)
}
