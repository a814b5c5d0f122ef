//! `peel`: paint, decode, encode and score Vision-Banana-style visualization images from the command line.
//!
//! Each subcommand lives in its own module with a clap `Args` struct and a `run` function.
//! To add one: declare the module in `lib.rs`, add a variant to [`Command`] and an arm to the `match` in `main`.
//! Bad input (unreadable file, bad prompt, size mismatch) exits 2 with a one-line message on stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use peel_cli::{decode, encode, metrics, run, synth, upsample};

#[derive(Parser, Debug)]
#[command(name = "peel", version, about = "Paint, decode, encode and score Vision-Banana-style visualization images")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode a generated visualization image into values (depth, normals, segmentation).
    Decode(decode::Args),
    /// Encode values (.npy) into a visualization image, e.g. to make training targets.
    Encode(encode::Args),
    /// Compare predictions with ground truth and print the metrics as JSON.
    Metrics(metrics::Args),
    /// Paint a photo with the generator (CPU): the visualization a prompt asks for, optionally decoded.
    Run(run::Args),
    /// Render synthetic scenes with exact metric depth, normals, labels and referring expressions.
    Synth(synth::Args),
    /// Bring a low-resolution painting to its photo's size as `peel run` does (guided by the photo).
    Upsample(upsample::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Metrics(args) => metrics::run(args),
        Command::Run(args) => run::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Upsample(args) => upsample::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("peel: {err}");
            ExitCode::from(2)
        }
    }
}
