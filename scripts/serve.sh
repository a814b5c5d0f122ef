#!/usr/bin/env bash
# README's serve command: set up, build, and serve the page on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh serve   # no browser and no trainer packages: serving needs neither
bash scripts/build-web.sh
exec node tests/serve.mjs dist "${PORT:-8080}"
