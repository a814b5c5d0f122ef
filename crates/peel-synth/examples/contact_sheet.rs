//! Contact sheet: `cargo run --release -p peel-synth --example contact_sheet -- OUT.png [SEED] [KIND] [COUNT]`.
//! Renders COUNT (default 16) samples at 256x256 and saves rgb | depth | normals | semantic | instance tiles.

use peel_synth::{SceneKind, Synth, SynthConfig, contact::contact_sheet, default_photo_dir};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).cloned().unwrap_or_else(|| "docs/synth-contact-sheet.png".into());
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let kind = args.get(3).and_then(|s| SceneKind::parse(s)).unwrap_or(SceneKind::Mixed);
    let n: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(16);
    let mut cfg = SynthConfig { seed, kind, ..SynthConfig::default() };
    cfg.photos.dir = default_photo_dir();
    let synth = Synth::new(cfg);
    for w in &synth.warnings {
        eprintln!("{w}");
    }
    let samples: Vec<_> = (0..n).map(|i| synth.render(i)).collect();
    for s in &samples {
        println!("{} {}: {}", s.meta.id, s.meta.kind, s.meta.expressions.iter().map(|e| e.text.as_str()).collect::<Vec<_>>().join(" | "));
    }
    let (w, h, px) = contact_sheet(&samples, 2, 128);
    image::save_buffer(&out, &px, w, h, image::ExtendedColorType::Rgb8).expect("save");
    println!("wrote {out} ({w}x{h})");
}
