#!/usr/bin/env bash
# The saving of building the Rust std once: the PyO3 fixture and rpds-py built in a fresh
# emwheel home (the first pays for std), then both again (std reused; only the packages build).
# Usage: benches/rust_std.sh (after scripts/setup and `emwheel target install 0.29.5`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
emwheel="$PWD/target/release/emwheel"
data="${EMWHEEL_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/emwheel}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fresh home that shares the installed targets and the toolchain, so only std and the
# packages' build environments start empty.
mkdir -p "$work/home/toolchain"
ln -s "$data/targets" "$work/home/targets"
for part in rust python-dev; do ln -s "$data/toolchain/$part" "$work/home/toolchain/$part"; done
seconds() { local start end; start=$(date +%s.%N); "$@" >>"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; exit 1; }; end=$(date +%s.%N); echo "$end - $start" | bc; }
# emcc is setup's, named through EMSDK as the tests do (the fresh home has no toolchain/bin).
build() { EMWHEEL_HOME="$work/home" EMSDK="$data/toolchain/bin" "$emwheel" build "$1" -o "$work/dist" --allow-emcc-mismatch; }
# Warm the build environments (maturin from PyPI) with a first fixture build whose std time is
# read from the std's own record.
first=$(seconds build tests/fixtures/pyo3-ext)
std=$(sed -n 's/^built in \(.*\) s$/\1/p' "$work"/home/rust-std/*/std.txt | head -n 1)
fixture=$(seconds build tests/fixtures/pyo3-ext)
rpds=$(seconds build recipes/rpds-py)
printf 'first Rust build (std %s s + PyO3 fixture): %.1f s\n' "$std" "$first"
printf 'PyO3 fixture again, std reused: %.1f s\nrpds-py, std reused: %.1f s\n' "$fixture" "$rpds"
printf 'saved per Rust package after the first: %s s\n' "$std"
