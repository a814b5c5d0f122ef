#!/usr/bin/env bash
# Builds the page into dist/ (release, both wasm modules), then writes the .br/.gz siblings that
# tests/serve.mjs sends (as a static host would).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
trunk build --release
# The CSP forbids inline script: move Trunk's loader out of index.html.
node scripts/csp-postbuild.mjs dist
node scripts/offline-postbuild.mjs dist
node tests/precompress.mjs dist
