//! The weights in `weights/` load into the architecture, reproduce PyTorch, and bad files are
//! refused with clear errors instead of panics.
//!
//! `PEEL_WEIGHTS` and `PEEL_FIXTURES` point the same tests at a candidate's export (for example
//! `export.py --weights target/cand/weights --fixtures target/cand/fixtures`) before it ships.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use burn::prelude::*;
use ndarray::{ArrayD, Axis, IxDyn};
use ndarray_npy::read_npy;
use peel_model::{Generator, LoadError, PaintError, Upsampling};
use peel_protocol::prompt::parse;
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;
use serde_json::Value;

fn weights_dir() -> PathBuf {
    std::env::var_os("PEEL_WEIGHTS").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../weights"), PathBuf::from)
}

fn fixtures() -> PathBuf {
    std::env::var_os("PEEL_FIXTURES").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), PathBuf::from)
}

/// (manifest JSON, weights, phrases) as shipped.
fn shipped() -> (Value, Vec<u8>, Vec<u8>) {
    let dir = weights_dir();
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("weights/manifest.json");
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let weights = std::fs::read(dir.join(manifest["weights_file"].as_str().unwrap())).expect("weights file");
    let phrases = std::fs::read(dir.join(manifest["phrases_file"].as_str().unwrap())).expect("phrases file");
    (manifest, weights, phrases)
}

/// The weights files of the manifest's task networks, in order.
fn task_network_files(manifest: &Value) -> Vec<(String, Vec<u8>)> {
    let networks = manifest["task_networks"].as_array().cloned().unwrap_or_default();
    networks
        .iter()
        .map(|n| {
            let file = n["weights_file"].as_str().unwrap().to_string();
            let bytes = std::fs::read(weights_dir().join(&file)).expect("task network file");
            (file, bytes)
        })
        .collect()
}

/// Loads the manifest's task networks into `generator`, as the page does after the first painting.
fn with_task_networks(mut generator: Generator, manifest: &Value) -> Generator {
    for (index, (_, bytes)) in task_network_files(manifest).iter().enumerate() {
        generator.load_task_network(index, bytes).unwrap();
    }
    generator
}

fn load(manifest: &Value, weights: &[u8], phrases: &[u8]) -> Result<Generator, LoadError> {
    Generator::from_bytes(manifest.to_string().as_bytes(), weights, phrases, &Device::flex())
}

fn generator() -> &'static Generator {
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    GENERATOR.get_or_init(|| Generator::load_dir(&weights_dir(), &Device::flex()).expect("shipped weights load"))
}

/// Rewrites the weights with `edit` applied to the (name, tensor) list and fixes the manifest's SHA-256.
fn edited(edit: impl FnOnce(&mut Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)>)) -> (Value, Vec<u8>, Vec<u8>) {
    let (mut manifest, weights, phrases) = shipped();
    let file = SafeTensors::deserialize(&weights).unwrap();
    let mut tensors: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.dtype(), view.shape().to_vec(), view.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| (name.clone(), TensorView::new(*dtype, shape.clone(), data).unwrap()))
        .collect();
    let bytes = safetensors::serialize(views, None).unwrap();
    manifest["sha256"] = peel_model::state::sha256_hex(&bytes).into();
    (manifest, bytes, phrases)
}

/// The share of a segmentation painting's pixels that may take another entry's colour than PyTorch's
/// dequantized model paints (near-ties).
const SEGMENTATION_NEAR_TIES: f32 = 0.002;

#[test]
fn burn_reproduces_the_pytorch_parity_fixtures() {
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("gen_parity.json")).unwrap()).unwrap();
    let input: ArrayD<f32> = read_npy(fixtures().join(spec["input"].as_str().unwrap())).unwrap();
    let shape: [usize; 4] = input.shape().try_into().unwrap();
    let generator = generator();
    let mut failures = Vec::new();
    for case in spec["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let request = parse(case["prompt"].as_str().unwrap()).unwrap();
        let conditioning = generator.condition(&request).unwrap();
        let x = Tensor::<1>::from_floats(input.as_slice().unwrap(), &Device::flex()).reshape(shape);
        let got = generator.paint_tensor(x, &conditioning).unwrap().into_data().try_to_vec::<f32>().unwrap();
        // Segmentation paints each pixel in one entry's colour, so where two entries' logits nearly tie,
        // a difference of 1e-4 may paint the other colour: there, only the share of pixels painted
        // otherwise is held. Depth and normals paint continuously.
        let segmentation = !matches!(name, "depth" | "normals");
        for tag in ["dequant", "float"] {
            let expected: ArrayD<f32> = read_npy(fixtures().join(case[tag].as_str().unwrap())).unwrap();
            assert_eq!(got.len(), expected.len(), "{name}: painted {} values, PyTorch {:?}", got.len(), expected.shape());
            let got = ArrayD::from_shape_vec(IxDyn(expected.shape()), got.clone()).unwrap();
            let diff = (&got - &expected).mapv(f32::abs);
            let max = diff.iter().fold(0.0f32, |m, &d| m.max(d));
            let mean = diff.mean().unwrap();
            // [(B,) 3, h, w]: a pixel is painted otherwise when any of its channels is.
            let channels = Axis(diff.ndim() - 3);
            let per_pixel = diff.map_axis(channels, |v| v.iter().fold(0.0f32, |m, &d| m.max(d)));
            let otherwise = per_pixel.iter().filter(|&&d| d > 1e-3).count() as f32 / per_pixel.len() as f32;
            let share =
                if segmentation { format!(", painted otherwise {:.3} %", 100.0 * otherwise) } else { String::new() };
            println!("{name:>9} vs PyTorch {tag:>7}: max abs {max:.2e}, mean abs {mean:.2e}{share}");
            // Against the float model (what int8 costs), every task: a mean difference of at most 0.03.
            let within = match (segmentation, tag) {
                (false, "dequant") => max <= 1e-3,
                (true, "dequant") => otherwise <= SEGMENTATION_NEAR_TIES,
                _ => mean <= 0.03,
            };
            if !within {
                failures.push(format!("{name} vs {tag}: max {max}, mean {mean}, painted otherwise {otherwise}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn paints_every_task_at_the_photo_size_and_reports_the_time() {
    let generator = generator();
    let prompts = [
        "Generate a metric depth map of the input image.",
        "Generate a surface normal map of the input image.",
        r#"Generate a semantic segmentation visualization image, using this color mapping: {"person": "red", "sky": "blue"}"#,
        "Generate an instance segmentation visualization of this image. Each person is colored differently.",
        "A segmentation map image. The person on the left is rendered in yellow.",
    ];
    let photo = image::RgbImage::from_fn(301, 97, |x, y| image::Rgb([x as u8, y as u8, 90]));
    for prompt in prompts {
        let painting = generator.paint(&photo, &parse(prompt).unwrap()).unwrap();
        assert_eq!(painting.dimensions(), (301, 97), "{prompt}");
    }
    // The plain resize: nearest neighbour for segmentation (a photo of the segmentation network's
    // input size, side x side/2, is painted at half that: every 2x2 block is one painted pixel),
    // bilinear for depth (blocks blend).
    let request = parse(r#"using this color mapping: {"person": "red", "sky": "blue"}"#).unwrap();
    let side = generator.manifest().input_long_side_for("semantic");
    let small = image::RgbImage::from_fn(side, side / 2, |x, y| image::Rgb([(x ^ y) as u8, y as u8, 200]));
    let painting = generator.paint_with(&small, &request, Upsampling::Resize).unwrap();
    assert_eq!(painting.dimensions(), (side, side / 2));
    let blocky = |p: &image::RgbImage| {
        (0..p.height() / 2).all(|by| {
            (0..p.width() / 2).all(|bx| {
                let c = p.get_pixel(2 * bx, 2 * by);
                [(1, 0), (0, 1), (1, 1)].iter().all(|&(dx, dy)| p.get_pixel(2 * bx + dx, 2 * by + dy) == c)
            })
        })
    };
    assert!(blocky(&painting));
    assert!(!blocky(&generator.paint_with(&small, &parse(prompts[0]).unwrap(), Upsampling::Resize).unwrap()));
    // The default, guided by the photo, votes among the painted colours: none is new.
    let painted: std::collections::HashSet<_> = painting.pixels().collect();
    assert!(generator.paint(&small, &request).unwrap().pixels().all(|p| painted.contains(p)));

    let depth = parse(prompts[0]).unwrap();
    let timed = image::RgbImage::from_fn(256, 192, |x, y| image::Rgb([(x ^ y) as u8, y as u8, 200]));
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        generator.paint(&timed, &depth).unwrap();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    println!("native CPU (flex) paint of a 256x192 photo, depth: {times:.0?} ms");
}

#[test]
fn tampered_files_are_refused_with_a_clear_message() {
    let (manifest, mut weights, mut phrases) = shipped();
    let last = weights.len() - 1;
    weights[last] ^= 0x5a;
    let err = load(&manifest, &weights, &phrases).err().unwrap();
    assert!(matches!(err, LoadError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("corrupt or was modified"), "{err}");
    weights[last] ^= 0x5a;
    phrases[100] ^= 1;
    let err = load(&manifest, &weights, &phrases).err().unwrap();
    assert!(err.to_string().contains("phrases.safetensors file is corrupt"), "{err}");
}

#[test]
fn truncated_weights_with_a_matching_checksum_do_not_panic() {
    let (mut manifest, weights, phrases) = shipped();
    for cut in [0, 7, 100, weights.len() / 3, weights.len() - 1] {
        let truncated = &weights[..cut];
        manifest["sha256"] = peel_model::state::sha256_hex(truncated).into();
        let err = load(&manifest, truncated, &phrases).err().unwrap();
        assert!(matches!(err, LoadError::Weights(_)), "{err}");
    }
    let (mut manifest, weights, phrases) = shipped();
    let truncated = &phrases[..phrases.len() / 2];
    manifest["phrases_sha256"] = peel_model::state::sha256_hex(truncated).into();
    let err = load(&manifest, &weights, truncated).err().unwrap();
    assert!(matches!(err, LoadError::Phrases(_)), "{err}");
}

#[test]
fn weights_of_another_shape_are_refused_even_with_a_matching_checksum() {
    // Through a directory, as the CLI loads it.
    let (manifest, weights, phrases) = edited(|tensors| {
        let t = tensors.iter_mut().find(|t| t.0 == "lateral2.bias").unwrap();
        t.2 = vec![33];
        t.3.extend_from_slice(&0f32.to_le_bytes());
    });
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peel-model-wrong-shape");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(dir.join(manifest["weights_file"].as_str().unwrap()), &weights).unwrap();
    std::fs::write(dir.join(manifest["phrases_file"].as_str().unwrap()), &phrases).unwrap();
    for (file, bytes) in task_network_files(&manifest) {
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    let err = Generator::load_dir(&dir, &Device::flex()).err().unwrap();
    assert!(matches!(err, LoadError::Weights(_)), "{err}");
    assert!(err.to_string().contains("\"lateral2.bias\" has shape [33], expected [32]"), "{err}");

    // A quantized weight stored as float.
    let (manifest, weights, phrases) = edited(|tensors| {
        let t = tensors.iter_mut().find(|t| t.0 == "depth_head.weight").unwrap();
        t.1 = safetensors::Dtype::F32;
        t.3 = vec![0; 32 * 4];
    });
    let err = load(&manifest, &weights, &phrases).err().unwrap();
    assert!(err.to_string().contains("\"depth_head.weight\" is F32, expected I8"), "{err}");

    // A missing scale and an extra tensor.
    let (manifest, weights, phrases) = edited(|tensors| {
        tensors.retain(|t| t.0 != "film8.proj.weight.qscale");
        tensors.push(("surprise".into(), safetensors::Dtype::F32, vec![1], vec![0; 4]));
    });
    let err = load(&manifest, &weights, &phrases).err().unwrap();
    assert!(err.to_string().contains("film8.proj.weight.qscale") && err.to_string().contains("surprise"), "{err}");

    // A different width in the manifest.
    let (mut manifest, weights, phrases) = shipped();
    manifest["architecture"]["width"] = 96.into();
    for network in manifest.get_mut("task_networks").and_then(Value::as_array_mut).into_iter().flatten() {
        network["architecture"]["width"] = 96.into();
    }
    assert!(matches!(load(&manifest, &weights, &phrases), Err(LoadError::Weights(_))));
}

#[test]
fn a_manifest_from_the_future_or_the_past_is_refused() {
    let (mut manifest, weights, phrases) = shipped();
    manifest["format"] = 4.into();
    let err = load(&manifest, &weights, &phrases).err().unwrap();
    assert!(err.to_string().contains("format 4, but this build of Peel reads format 3"), "{err}");
    // Format 2 shipped 384-d phrase rows and listed them in the manifest.
    manifest["format"] = 2.into();
    let err = load(&manifest, &weights, &phrases).err().unwrap();
    assert!(err.to_string().contains("format 2, but this build of Peel reads format 3"), "{err}");
    let old = r#"{"manifest_version": 1, "name": "Peel placeholder depth U-Net"}"#;
    let err = Generator::from_bytes(old.as_bytes(), &weights, &phrases, &Device::flex()).err().unwrap();
    assert!(matches!(err, LoadError::ManifestFormat { .. }), "{err}");
    let err = Generator::from_bytes(b"{not json", &weights, &phrases, &Device::flex()).err().unwrap();
    assert!(matches!(err, LoadError::Manifest(_)), "{err}");
}

#[test]
fn unknown_phrases_and_unsupported_requests_are_clear_errors() {
    let generator = generator();
    let photo = image::RgbImage::new(64, 48);
    let request = parse(r#"using this color mapping: {"person": "red", "qwxz zzyzx": "blue"}"#).unwrap();
    let err = generator.paint(&photo, &request).unwrap_err();
    assert!(matches!(err, PaintError::Condition(_)), "{err}");
    assert!(err.to_string().contains("\"qwxz zzyzx\""), "{err}");

    let tuned = parse("Generate a metric depth map. lambda = -4, c = 120").unwrap();
    let err = generator.paint(&photo, &tuned).unwrap_err();
    assert!(err.to_string().contains("paper's codec only"), "{err}");

    let err = generator.paint(&image::RgbImage::new(0, 5), &parse("Generate a surface normal map.").unwrap()).unwrap_err();
    assert!(matches!(err, PaintError::EmptyImage { .. }), "{err}");

    let conditioning = generator.condition(&parse("Generate a surface normal map.").unwrap()).unwrap();
    let odd = Tensor::<4>::zeros([1, 3, 48, 64], &Device::flex());
    let err = generator.paint_tensor(odd, &conditioning).unwrap_err();
    assert!(matches!(err, PaintError::InputShape { .. }), "{err}");
}

#[test]
fn words_compose_phrases_outside_the_vocabulary() {
    let table = generator().phrase_table();
    assert_eq!(table.dim(), 64);
    // Not a vocabulary phrase: the plain mean of the rows of "person" and "left" ("the", "on"
    // are stopwords); "the person" and "the left" are those words' rows alone.
    let composed = table.embed("The person on the LEFT!").unwrap();
    let person = table.embed("the person").unwrap();
    let left = table.embed("the left").unwrap();
    assert_eq!(composed.len(), 64);
    for ((c, p), l) in composed.iter().zip(&person).zip(&left) {
        assert!((c - (p + l) / 2.0).abs() < 1e-6, "{c} vs ({p} + {l}) / 2");
    }
    // "person" is a phrase in the table, with its own row.
    assert_ne!(table.embed("person").unwrap(), composed);
}

/// Phrases none of whose words were in peel-gen-1's first (1,281-word) table; MiniLM's own
/// whole words cover them now. peel-gen-1 was never trained on these words.
const UNSEEN_PHRASES: [&str; 10] = [
    "the pond",
    "a lighthouse",
    "the chimney",
    "a ladder",
    "the statue",
    "a puddle",
    "the windmill",
    "the canal",
    "a rusty anchor",
    "the balcony staircase",
];

#[test]
fn the_open_vocabulary_embeds_phrases_the_first_table_did_not_know() {
    let generator = generator();
    let table = generator.phrase_table();
    assert!(table.word_count() >= 20_000, "{} words", table.word_count());
    let mut rows = Vec::new();
    for phrase in UNSEEN_PHRASES {
        let v = table.embed(phrase).unwrap_or_else(|e| panic!("{e}"));
        assert!(v.len() == 64 && v.iter().all(|x| x.is_finite()) && v.iter().any(|&x| x != 0.0), "{phrase}: {v:?}");
        rows.push(v);
    }
    // Distinct words give distinct rows.
    for (i, a) in rows.iter().enumerate() {
        assert!(rows[i + 1..].iter().all(|b| b != a), "{} repeats another row", UNSEEN_PHRASES[i]);
    }
    // They paint: the pond in blue, through the whole model.
    let photo = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, 120]));
    let request = parse("A segmentation map image. The pond is rendered in blue.").unwrap();
    assert_eq!(generator.paint(&photo, &request).unwrap().dimensions(), (96, 64));
    // Words that MiniLM splits into pieces come from the dictionary list (dictionary-words.txt).
    for phrase in ["a kayak", "the saucer", "the doorknob"] {
        assert!(table.embed(phrase).is_ok(), "{phrase} is refused");
    }
    // A word in neither list is refused, by name.
    let err = table.embed("a glorpwhistle").unwrap_err();
    assert!(err.to_string().contains("\"a glorpwhistle\""), "{err}");
}

/// The row names listed in a phrase file's metadata under `key`.
fn listed(table: &[u8], key: &str) -> Vec<String> {
    let (_, header) = SafeTensors::read_metadata(table).unwrap();
    header.metadata().as_ref().unwrap()[key].split('\n').map(str::to_string).collect()
}

#[test]
fn the_core_table_paints_every_phrase_it_takes_as_the_whole_table_does() {
    let (manifest, weights, whole) = shipped();
    let core_spec = &manifest["core_phrases"];
    let core = std::fs::read(weights_dir().join(core_spec["file"].as_str().expect("the manifest names a core table"))).unwrap();
    let json = manifest.to_string();
    let first_visit = Generator::from_core_bytes(json.as_bytes(), &weights, &core, &Device::flex()).unwrap();
    let first_visit = with_task_networks(first_visit, &manifest);
    let (core_table, whole_table) = (first_visit.phrase_table(), generator().phrase_table());
    assert!(!core_table.is_complete() && whole_table.is_complete());
    // Every phrase, and the words they are made of: the rows training saw.
    let (phrases, words) = (listed(&core, "phrases"), listed(&core, "words"));
    assert_eq!(phrases, listed(&whole, "phrases"));
    assert_eq!(words.len() as u64, core_spec["word_count"].as_u64().unwrap());
    for text in phrases.iter().chain(&words) {
        assert_eq!(core_table.embed(text), whole_table.embed(text), "{text:?}");
    }
    // Any prompt made of its words it answers, as the whole table does.
    for (i, word) in words.iter().enumerate().step_by(5) {
        let composed = format!("the {word} on the left of the {}", words[i * 7 % words.len()]);
        assert_eq!(core_table.embed(&composed), whole_table.embed(&composed), "{composed:?}");
    }
    // Any other: the same answer or "not in the core", never another row or refusal.
    let whole_words = listed(&whole, "words");
    let mut deferred = 0;
    for (i, text) in whole_words.iter().step_by(97).enumerate() {
        let composed = format!("the {} on the left of the {}", words[i * 7 % words.len()], text);
        for text in [text.as_str(), composed.as_str(), "the cups", "a glorpwhistle"] {
            match core_table.embed(text) {
                Err(peel_model::EmbedError::NotInCore { .. }) => deferred += 1,
                same => assert_eq!(same, whole_table.embed(text), "{text:?}"),
            }
        }
    }
    assert!(deferred > 0, "no prompt needed the whole table: the sample checks nothing");
    // The core table's hash is checked, and it paints the README's cat.
    let err = Generator::from_core_bytes(json.as_bytes(), &weights, &core[..core.len() - 1], &Device::flex()).err();
    assert!(matches!(err, Some(LoadError::Checksum { .. })), "{err:?}");
    let cat = parse("A segmentation map image. The cat is rendered in red.").unwrap();
    let photo = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, 120]));
    assert_eq!(first_visit.paint(&photo, &cat).unwrap(), generator().paint(&photo, &cat).unwrap());
    // Once the whole table arrives, the generator takes any word.
    let mut first_visit = first_visit;
    let pond = parse("A segmentation map image. The pond is rendered in blue.").unwrap();
    assert!(matches!(first_visit.condition(&pond), Err(PaintError::Condition(peel_model::ConditionError::NeedsWholeTable { .. }))));
    first_visit.complete_phrases(&whole).unwrap();
    assert!(first_visit.phrase_table().is_complete());
    assert_eq!(first_visit.paint(&photo, &pond).unwrap(), generator().paint(&photo, &pond).unwrap());
}

#[test]
fn each_task_network_paints_its_tasks_once_loaded_and_only_from_its_own_file() {
    let (manifest, weights, phrases) = shipped();
    let files = task_network_files(&manifest);
    if files.is_empty() {
        println!("this model has one network: nothing to check");
        return;
    }
    let photo = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, 120]));
    let depth = parse("Generate a metric depth map of the input image.").unwrap();
    let mut partial = load(&manifest, &weights, &phrases).unwrap();
    // The main network paints before any task network is loaded, as it does after.
    assert_eq!(partial.paint(&photo, &depth).unwrap(), generator().paint(&photo, &depth).unwrap());
    for (index, network) in manifest["task_networks"].as_array().unwrap().iter().enumerate() {
        let (file, bytes) = &files[index];
        assert!(!partial.has_task_network(index));
        for task in network["tasks"].as_array().unwrap() {
            let prompt = match task.as_str().unwrap() {
                "semantic" => r#"using this color mapping: {"person": "red", "sky": "blue"}"#,
                "instance" => "Generate an instance segmentation visualization of this image. Each person is colored differently.",
                "referring" => "A segmentation map image. The person on the left is rendered in yellow.",
                "normals" => "Generate a surface normal map of the input image.",
                _ => "Generate a metric depth map of the input image.",
            };
            let err = partial.paint(&photo, &parse(prompt).unwrap()).unwrap_err();
            assert!(matches!(err, PaintError::NetworkNotLoaded { index: i, .. } if i == index), "{err}");
            assert!(err.to_string().contains(file.as_str()), "{err}");
        }
        // Another file's bytes, or a damaged copy, are refused by the manifest's hash.
        let err = partial.load_task_network(index, &weights).unwrap_err();
        assert!(matches!(err, LoadError::Checksum { .. }) && err.to_string().contains(file.as_str()), "{err}");
        let mut damaged = bytes.clone();
        damaged[bytes.len() / 2] ^= 1;
        assert!(matches!(partial.load_task_network(index, &damaged), Err(LoadError::Checksum { .. })));
        partial.load_task_network(index, bytes).unwrap();
        assert!(partial.has_task_network(index));
    }
    assert!(matches!(partial.load_task_network(files.len(), &weights), Err(LoadError::Architecture(_))));
    // Loaded, it paints as `load_dir`'s generator does; the main network would paint otherwise.
    let request = parse(r#"using this color mapping: {"person": "red", "sky": "blue"}"#).unwrap();
    let raw = |generator: &Generator| {
        let conditioning = generator.condition(&request).unwrap();
        let x = Tensor::<4>::from_floats(TensorData::new((0..3 * 64 * 96).map(|i| ((i * 37 % 255) as f32) / 127.5 - 1.0).collect(), [1, 3, 64, 96]), &Device::flex());
        generator.paint_tensor(x, &conditioning).unwrap().into_data().try_to_vec::<f32>().unwrap()
    };
    let painted = raw(&partial);
    assert!(painted == raw(generator()), "the loaded task network paints otherwise than load_dir's");
    let mut one_network = manifest.clone();
    one_network.as_object_mut().unwrap().remove("task_networks");
    let main_only = load(&one_network, &weights, &phrases).unwrap();
    assert!(raw(&main_only) != painted, "the task network paints what the main network would");
}
