//! Throughput benchmark: `cargo run --release -p peel-synth --example bench -- [COUNT] [WxH] [RUNS] [KIND]`.
//! Renders COUNT samples in memory (no disk writes) RUNS times and prints samples/s per run and the median.

use std::time::Instant;

use peel_synth::{SceneKind, Synth, SynthConfig, default_photo_dir, parse_size};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(50);
    let (w, h) = args.get(2).map(|s| parse_size(s).unwrap_or((256, 256))).unwrap_or((256, 256));
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let kind = args.get(4).and_then(|s| SceneKind::parse(s)).unwrap_or(SceneKind::Mixed);
    let mut cfg = SynthConfig { width: w, height: h, seed: 1, kind, ..SynthConfig::default() };
    if let Some(a) = std::env::var("PEEL_AO").ok().and_then(|s| s.parse().ok()) {
        cfg.quality.ao_samples = a;
    }
    if std::env::var("PEEL_NOSHADOW").is_ok() {
        cfg.quality.shadows = false;
    }
    cfg.photos.dir = default_photo_dir();
    let t = Instant::now();
    let synth = Synth::new(cfg);
    println!("setup: {:.2}s ({} photos), threads: {}", t.elapsed().as_secs_f64(), synth.photo_count(), rayon::current_num_threads());
    let mut rates = Vec::new();
    for r in 0..runs {
        let t = Instant::now();
        let mut px = 0usize;
        for i in 0..count {
            let s = synth.render(r as u64 * count + i);
            px += s.rgb.len();
        }
        let rate = count as f64 / t.elapsed().as_secs_f64();
        println!("run {r}: {count} samples at {w}x{h}: {rate:.2} samples/s ({px} bytes)");
        rates.push(rate);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    println!("median: {:.2} samples/s", rates[rates.len() / 2]);
}
