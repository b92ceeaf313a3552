#!/usr/bin/env bash
# The lint leg: Biome's formatter check and lint rules over the repository (biome.json, which extends the settings
# generated projects get: templates/project/biome.json). Needs only the devDependencies (npm ci), no apt packages.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/biome ] || npm ci --no-audit --no-fund --ignore-scripts
npx biome check --error-on-warnings --max-diagnostics=200 .
