#!/usr/bin/env bash
# Installs what Peel's build and tests need and a fresh machine lacks. Idempotent.
#   bash scripts/setup.sh         everything: the page's build, the browser tests, the trainer
#   bash scripts/setup.sh serve   only what building and serving the page need (no browser, no Python)
set -euo pipefail
cd "$(dirname "$0")/.."
PURPOSE="${1:-all}"
case "$PURPOSE" in all|serve) ;; *) echo "usage: bash scripts/setup.sh [serve]" >&2; exit 2 ;; esac

TRUNK_VERSION=0.21.14         # 0.22 needs a newer rustc
WASM_BINDGEN_VERSION=0.2.130  # must equal the wasm-bindgen pin in Cargo.toml
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing_debs=()
browser_debs=(chromium)
[ "$PURPOSE" = serve ] && browser_debs=()
# g++: libfuzzer-sys compiles libFuzzer for the fuzz targets (fuzz/run.sh).
if [ "$PURPOSE" = all ]; then browser_debs+=(g++); fi
for deb in "${browser_debs[@]}"; do dpkg -s "$deb" >/dev/null 2>&1 || missing_debs+=("$deb"); done
if [ ${#missing_debs[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing_debs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing_debs[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32 Rust target"
  rustup target add wasm32-unknown-unknown
fi
if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  say "Installing trunk $TRUNK_VERSION (about 8 minutes on 2 cores)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins a webpki-roots that the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if [ "$PURPOSE" = all ] && [ ! -d tests/node_modules/playwright-core ]; then
  say "Installing the browser-test driver (playwright-core; it downloads no browser)"
  (cd tests && npm ci --no-audit --no-fund)
fi
# The trainer's virtual environment (its smoke test is part of the test command).
if [ "$PURPOSE" = all ] && ! cmp -s train/requirements.txt .venv/.installed-requirements 2>/dev/null; then
  say "Installing the trainer's Python packages into .venv (torch from PyPI: about 5 GB)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r train/requirements.txt
  cp train/requirements.txt .venv/.installed-requirements
fi
# Trunk builds with `cargo --offline` (Trunk.toml), so every crate must be here first.
cargo fetch --quiet
if [ "$PURPOSE" = all ]; then cargo fetch --quiet --manifest-path fuzz/Cargo.toml; fi
