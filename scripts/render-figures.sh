#!/usr/bin/env bash
# Renders the report's SVG figures to PNG, to look at them as a reader would (clipped titles or
# legends, unreadable ticks): a check by eye, not a test. Needs rsvg-convert (Debian librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-docs/results}"
out="${2:-.cache/figures}"
command -v rsvg-convert >/dev/null || { echo "render-figures: needs rsvg-convert (apt-get install librsvg2-bin)" >&2; exit 1; }
mkdir -p "$out"
for f in "$src"/*.svg; do rsvg-convert "$f" -o "$out/$(basename "${f%.svg}").png"; done
echo "$(ls "$out"/*.png | wc -l) figures in $out"
