//! `peel synth`: render synthetic scenes with exact depth, normals, labels and referring expressions.

use std::path::PathBuf;
use std::time::Instant;

use peel_synth::{SceneKind, Synth, SynthConfig, contact::contact_sheet, default_photo_dir, generate_dataset, parse_size};

use crate::error::{CliError, CliResult, print_line};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Number of samples to render.
    #[arg(long, default_value_t = 16)]
    count: u64,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Image size, WxH.
    #[arg(long, default_value = "256x256")]
    size: String,
    /// Output folder; sample i goes to DIR/<i as 6 digits>/.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Scene kind: indoor, outdoor, tabletop or mixed.
    #[arg(long, default_value = "mixed")]
    kind: String,
    /// Index of the first sample (for sharding a dataset across runs).
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Photo folder for textures (default: $PEEL_SHARED/data/photos or ../shared/data/photos).
    #[arg(long)]
    photos: Option<PathBuf>,
    /// Use procedural textures only.
    #[arg(long)]
    no_photos: bool,
    /// Also save a contact sheet (rgb, depth, normals, semantic, instance) of the first 16 samples.
    #[arg(long)]
    contact_sheet: Option<PathBuf>,
}

pub fn run(args: Args) -> CliResult {
    let (width, height) = parse_size(&args.size)?;
    let kind = SceneKind::parse(&args.kind)
        .ok_or_else(|| CliError::msg(format!("unknown --kind {:?} (indoor, outdoor, tabletop, mixed)", args.kind)))?;
    if args.out.is_none() && args.contact_sheet.is_none() {
        return Err(CliError::msg("nothing to do: give --out DIR and/or --contact-sheet FILE.png"));
    }
    if args.start.checked_add(args.count).is_none() {
        return Err(CliError::msg("--start + --count overflows"));
    }
    if let Some(out) = &args.out {
        // Fail on an unusable --out before spending time on loading textures.
        if out.is_file() {
            return Err(CliError::msg(format!("--out {} is a file", out.display())));
        }
        std::fs::create_dir_all(out).map_err(|e| CliError::msg(format!("--out {}: {e}", out.display())))?;
    }
    let mut cfg = SynthConfig { width, height, kind, seed: args.seed, ..SynthConfig::default() };
    cfg.photos.dir = if args.no_photos { None } else { args.photos.clone().or_else(default_photo_dir) };
    if let Some(p) = args.photos.as_ref().filter(|p| !args.no_photos && !p.is_dir()) {
        eprintln!("warning: --photos {} is not a folder", p.display());
    }
    let t0 = Instant::now();
    let synth = Synth::new(cfg);
    for w in &synth.warnings {
        eprintln!("{w}");
    }
    let setup = t0.elapsed().as_secs_f64();
    let sheet_n = if args.contact_sheet.is_some() { args.count.min(16) as usize } else { 0 };
    let mut sheet = Vec::with_capacity(sheet_n);
    let every = (args.count / 10).max(1);
    let mut done = 0u64;
    let stats = match &args.out {
        Some(out) => {
            generate_dataset(&synth, args.start, args.count, out, |s| {
                if sheet.len() < sheet_n {
                    sheet.push(s.clone());
                }
                done += 1;
                if done.is_multiple_of(every) {
                    eprintln!("rendered {done}/{}", args.count);
                }
            })?
        }
        None => {
            let t = Instant::now();
            for i in 0..sheet_n as u64 {
                sheet.push(synth.render(args.start + i));
            }
            let secs = t.elapsed().as_secs_f64();
            peel_synth::Stats { count: sheet_n as u64, seconds: secs, setup_seconds: 0.0, samples_per_second: sheet_n as f64 / secs.max(1e-9) }
        }
    };
    if let Some(path) = &args.contact_sheet {
        let (w, h, px) = contact_sheet(&sheet, 2, 128);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CliError::msg(format!("{}: {e}", dir.display())))?;
        }
        image::save_buffer(path, &px, w, h, image::ExtendedColorType::Rgb8).map_err(|e| CliError::msg(format!("{}: {e}", path.display())))?;
        print_line(&format!("contact sheet: {} ({} samples)", path.display(), sheet.len()))?;
    }
    print_line(&format!(
        "synth: {} samples {}x{} kind={} seed={} in {:.2}s (+{:.2}s setup, {} photos, {} threads): {:.2} samples/s{}",
        stats.count,
        width,
        height,
        kind.name(),
        args.seed,
        stats.seconds,
        setup,
        synth.photo_count(),
        rayon_threads(),
        stats.samples_per_second,
        args.out.as_ref().map(|o| format!(", written to {}", o.display())).unwrap_or_default()
    ))
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
