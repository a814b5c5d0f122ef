//! The weights in `weights/` decode into the architecture and reproduce PyTorch.

use burn::prelude::*;
use ndarray::{ArrayD, IxDyn};
use ndarray_npy::read_npy;
use peel_model::{Generator, LoadError, Manifest, load_model};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped() -> (Manifest, Vec<u8>) {
    let text = std::fs::read_to_string(repo().join("weights/manifest.json")).expect("weights/manifest.json");
    let manifest = Manifest::from_json(&text).expect("manifest parses");
    let weights = std::fs::read(repo().join("weights").join(&manifest.weights_file)).expect("weights file");
    (manifest, weights)
}

#[test]
fn shipped_weights_load_into_the_architecture() {
    let (manifest, weights) = shipped();
    load_model(&manifest, weights, &Device::flex()).expect("weights load");
}

#[test]
fn burn_reproduces_the_pytorch_parity_fixture() {
    let (manifest, weights) = shipped();
    let model = load_model(&manifest, weights, &Device::flex()).unwrap();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let input: ArrayD<f32> = read_npy(fixtures.join("parity_input.npy")).unwrap();
    let expected: ArrayD<f32> = read_npy(fixtures.join("parity_output.npy")).unwrap();
    let shape: [usize; 4] = input.shape().try_into().unwrap();
    let x = Tensor::<1>::from_floats(input.as_slice().unwrap(), &Device::flex()).reshape(shape);
    let got = model.forward(x).into_data().try_to_vec::<f32>().unwrap();
    let got = ArrayD::from_shape_vec(IxDyn(expected.shape()), got).unwrap();
    let worst = (&got - &expected).iter().fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(worst < 1e-3, "largest difference from PyTorch: {worst}");
}

#[test]
fn tampered_weights_are_refused_with_a_clear_message() {
    let (manifest, mut weights) = shipped();
    let last = weights.len() - 1;
    weights[last] ^= 0x5a;
    let err = load_model(&manifest, weights, &Device::flex()).unwrap_err();
    assert!(matches!(err, LoadError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("corrupt or was modified"));
}

#[test]
fn weights_of_another_shape_are_refused_even_with_a_matching_checksum() {
    let (mut manifest, weights) = shipped();
    manifest.architecture.base_channels *= 2;
    let err = load_model(&manifest, weights, &Device::flex()).unwrap_err();
    assert!(matches!(err, LoadError::Weights(_)), "{err}");
}

#[test]
fn truncated_weights_with_a_matching_checksum_do_not_panic() {
    let (mut manifest, weights) = shipped();
    let truncated = weights[..weights.len() / 3].to_vec();
    manifest.sha256 = peel_model::state::sha256_hex(&truncated);
    assert!(load_model(&manifest, truncated, &Device::flex()).is_err());
}

#[test]
fn a_manifest_from_the_future_is_refused() {
    let (manifest, _) = shipped();
    let mut json = serde_json::to_value(&manifest).unwrap();
    json["manifest_version"] = 99.into();
    let err = Manifest::from_json(&json.to_string()).unwrap_err();
    assert!(err.to_string().contains("version 99"), "{err}");
}

#[test]
fn paints_any_photo_size_at_model_resolution() {
    let (manifest, weights) = shipped();
    let generator = Generator::new(manifest, weights, Device::flex()).unwrap();
    let photo = image::RgbImage::from_fn(301, 97, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let painting = generator.paint(&photo).unwrap();
    assert_eq!(painting.dimensions(), peel_model::preprocess::model_size(301, 97, 256));
}
