#!/usr/bin/env bash
# Installs what Peel's build and tests need and a fresh machine lacks. Idempotent.
#   bash scripts/setup.sh          everything: the page's build, the browser tests, the trainer
#   bash scripts/setup.sh serve    only what building and serving the page need (no browser, no Python)
#   bash scripts/setup.sh tools    everything but the trainer's Python packages
#   bash scripts/setup.sh python   only the trainer's Python packages (.venv)
# scripts/test.sh runs `python` in the background beside `tools`: torch is about 5 GB of downloads
# and unpacking, mostly waiting on the network and the disk while the compilers have the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
PURPOSE="${1:-all}"
case "$PURPOSE" in all|serve|tools|python) ;; *) echo "usage: bash scripts/setup.sh [serve|tools|python]" >&2; exit 2 ;; esac

WASM_BINDGEN_VERSION=0.2.130  # must equal the wasm-bindgen pin in Cargo.toml
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The trainer's virtual environment (its smoke test and the bad-input corpus are part of the test command).
if [ "$PURPOSE" = all ] || [ "$PURPOSE" = python ]; then
  if ! cmp -s train/requirements.txt .venv/.installed-requirements 2>/dev/null; then
    say "Installing the trainer's Python packages into .venv (torch from PyPI: about 5 GB)"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r train/requirements.txt
    cp train/requirements.txt .venv/.installed-requirements
  fi
  [ "$PURPOSE" = python ] && exit 0
fi

missing_debs=()
debs=()
# g++: libfuzzer-sys compiles libFuzzer for the fuzz targets (fuzz/run.sh).
[ "$PURPOSE" = serve ] || debs=(chromium g++)
for deb in "${debs[@]}"; do dpkg -s "$deb" >/dev/null 2>&1 || missing_debs+=("$deb"); done
if [ ${#missing_debs[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing_debs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing_debs[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32 Rust target"
  rustup target add wasm32-unknown-unknown
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins a webpki-roots that the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if [ "$PURPOSE" != serve ] && ! cmp -s tests/package-lock.json tests/node_modules/.installed-package-lock.json 2>/dev/null; then
  say "Installing the browser tests' packages (playwright-core downloads no browser)"
  (cd tests && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-package-lock.json)
fi
# The page's build (scripts/build-web.sh) runs cargo --offline, so every crate must be here first.
cargo fetch --quiet
if [ "$PURPOSE" != serve ]; then cargo fetch --quiet --manifest-path fuzz/Cargo.toml; fi
