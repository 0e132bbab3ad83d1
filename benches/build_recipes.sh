#!/usr/bin/env bash
# Benchmarks `emwheel build-recipes` with the real toolchain and prints:
#   (a) the no-op rebuild time of every shipped recipe (median of 5 runs, all cached),
#   (b) the -j 2 over -j 1 speed-up on four independent C-extension builds (copies of
#       tests/fixtures/bench-cext under four names),
#   (c) emwheel's own overhead per package: the wall time of a one-package build minus the
#       time spent in subprocesses (the `# took` lines of its kept build log); the time in
#       emcc (compiler.log's per-call seconds) is part of the subprocess time.
# Needs scripts/setup and an installed target (`emwheel target install 0.29.5`). Builds
# allow the emcc mismatch, as the tests do.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
emwheel="$PWD/target/release/emwheel"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export EMWHEEL_ALLOW_EMCC_MISMATCH=1

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Runs build-recipes quietly (stdout and stderr into $work/last.log) and prints its wall time.
timed() {
    local start end
    start="$(now)"
    "$emwheel" build-recipes --no-progress "$@" >"$work/last.log" 2>&1 || {
        cat "$work/last.log" >&2
        exit 1
    }
    end="$(now)"
    elapsed "$start" "$end"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "(a) no-op rebuild of every shipped recipe"
timed '*' --recipe-dir recipes -o "$work/shipped" >/dev/null
runs=()
for _ in 1 2 3 4 5; do
    runs+=("$(timed '*' --recipe-dir recipes -o "$work/shipped")")
    grep -q ' 0 built, ' "$work/last.log" || { echo "a no-op run rebuilt something" >&2; exit 1; }
done
count="$(ls recipes | wc -l)"
echo "    $count recipes, runs: ${runs[*]} s; median $(printf '%s\n' "${runs[@]}" | median) s"

echo "(b) -j 2 against -j 1 on four independent C extensions"
for n in 1 2 3 4; do
    dir="$work/cext/bench-cext-$n"
    mkdir -p "$dir"
    cp -r tests/fixtures/bench-cext/. "$dir"
    sed -i "s/^name = \"bench-cext\"/name = \"bench-cext-$n\"/" "$dir/recipe.toml" "$dir/pyproject.toml"
done
timed '*' --recipe-dir "$work/cext" -o "$work/cext-out" -j 2 >/dev/null  # warm the build venv
best() { printf '%s\n' "$@" | sort -n | head -1; }
serial="$(best "$(timed '*' --recipe-dir "$work/cext" -o "$work/cext-out" --force -j 1)" \
    "$(timed '*' --recipe-dir "$work/cext" -o "$work/cext-out" --force -j 1)")"
parallel="$(best "$(timed '*' --recipe-dir "$work/cext" -o "$work/cext-out" --force -j 2)" \
    "$(timed '*' --recipe-dir "$work/cext" -o "$work/cext-out" --force -j 2)")"
speedup="$(awk -v s="$serial" -v p="$parallel" 'BEGIN { printf "%.2f", s / p }')"
echo "    -j 1: $serial s, -j 2: $parallel s (best of 2 each); speed-up ${speedup}x on $(nproc) CPUs"

echo "(c) emwheel's own overhead per package (one-package build-recipes --force -j 1)"
printf '    %-12s %7s %13s %9s %6s %9s\n' package wall subprocesses "in emcc" calls overhead
overhead() {
    local name="$1" recipes="$2" out="$work/one-$1" wall took emcc calls
    wall="$(timed "$name" --recipe-dir "$recipes" -o "$out" --force -j 1)"
    took="$(awk '/^# took / { sub(/s$/, "", $3); s += $3 } END { printf "%.3f", s }' "$out/.emwheel/logs/$name.log")"
    calls=0 emcc=0.000
    if [ -f "$out/.emwheel/logs/$name.compiler.log" ]; then
        calls="$(wc -l <"$out/.emwheel/logs/$name.compiler.log")"
        emcc="$(grep -o '"seconds":[0-9.e-]*' "$out/.emwheel/logs/$name.compiler.log" |
            awk -F: '{ s += $2 } END { printf "%.3f", s }')"
    fi
    printf '    %-12s %7s %13s %9s %6s %9s\n' "$name" "$wall" "$took" "$emcc" "$calls" \
        "$(elapsed "$took" "$wall")"
}
for recipe in recipes/*/; do
    overhead "$(basename "$recipe")" recipes
done
overhead bench-cext-1 "$work/cext"
