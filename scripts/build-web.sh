#!/usr/bin/env bash
# Builds the page into dist/ (release, both wasm modules), then writes the .br/.gz siblings that
# tests/serve.mjs sends (as a static host would).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
trunk build --release
node tests/precompress.mjs dist
