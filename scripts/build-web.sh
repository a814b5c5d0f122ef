#!/usr/bin/env bash
# Builds the page into dist/: both wasm modules in release (the page's and its worker's), their
# wasm-bindgen glue, and the files index.html names (scripts/assemble-page.mjs); then writes the
# .br/.gz siblings that tests/serve.mjs sends (as a static host would).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
TARGET="${CARGO_TARGET_DIR:-target}"
WASM="$TARGET/wasm32-unknown-unknown/release"
STAGE="$TARGET/web-stage"
# No network but the package registries: scripts/setup.sh fetched every crate.
# Two builds, not one: built together, the page would share the worker's feature set.
cargo build --release --offline --target wasm32-unknown-unknown -p peel-web --bin peel-app
cargo build --release --offline --target wasm32-unknown-unknown -p peel-worker --lib
rm -rf "$STAGE" && mkdir -p "$STAGE"
wasm-bindgen --target web --no-typescript --out-dir "$STAGE" "$WASM/peel-app.wasm"
# The worker is a classic worker script (static/worker-loader.js importScripts its glue).
wasm-bindgen --target no-modules --no-typescript --out-dir "$STAGE" --out-name peel-worker "$WASM/peel_worker.wasm"
node scripts/assemble-page.mjs "$STAGE" dist
# Fails if the page has inline script or style, or lacks its policy <meta>.
node scripts/csp-check.mjs dist
node scripts/offline-postbuild.mjs dist
node tests/precompress.mjs dist
