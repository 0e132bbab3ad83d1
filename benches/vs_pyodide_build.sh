#!/usr/bin/env bash
# emwheel against pyodide-build, in one run, on the same emcc, binaryen and sources.
#
# Installs pyodide-build from PyPI into a venv, gives it a cross-build environment assembled
# offline from emwheel's own target (pyodide-build reads `pyodide-root/Makefile.envs`,
# `dist/pyodide-lock.json` and `cpython/installs/python-X.Y.Z/{include,sysconfigdata}`), puts
# the setup toolchain's emcc first on PATH for both, and times each case alternating the two
# tools, ROUNDS times; prints the median of each and the ratio, as a Markdown table.
#
# Cases: MarkupSafe 2.1.5 from a source dir (pyodide-build default and `-n`, no isolation),
# six (pure), CLI start-up (`--version`) and a no-op rebuild of recipes/markupsafe. numpy is
# measured only with `--numpy` (a build takes minutes per tool and round).
#
# Usage: benches/vs_pyodide_build.sh [ROUNDS] [--numpy]
# Needs scripts/setup and target 0.29.5 (`emwheel target install 0.29.5`). Both tools build
# with emcc 3.1.69 although 0.29.5 was made with 4.0.9 (emwheel: EMWHEEL_ALLOW_EMCC_MISMATCH,
# pyodide-build: SKIP_EMSCRIPTEN_VERSION_CHECK), so the comparison is of the tools, not of
# the wheels' loadability.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
numpy="${2:-}"
target=0.29.5
pyodide_build_version=0.39.2
work="$PWD/target/vs-pyodide-build"
cargo build --release --quiet
emwheel="$PWD/target/release/emwheel"
export EMWHEEL_ALLOW_EMCC_MISMATCH=1 SKIP_EMSCRIPTEN_VERSION_CHECK=1
mkdir -p "$work"

config() { "$emwheel" config get "$1" --target "$target"; }
host_python="$(config host_python)"
target_dir="$(config target_dir)"
python_version="$(config python_version)"
toolchain_bin="$(dirname "$(command -v emcc 2>/dev/null || echo "${EMWHEEL_HOME:-$HOME/.local/share/emwheel}/toolchain/bin/emcc")")"
export PATH="$toolchain_bin:$PATH"
emcc_version="$(emcc -dumpversion)"

# pyodide-build in its own venv (the host Python emwheel builds with).
if [ ! -x "$work/venv/bin/pyodide" ]; then
  "$host_python" -m venv "$work/venv"
  # setuptools for `pyodide build -n`, which runs the backend from this venv.
  "$work/venv/bin/pip" install --quiet "pyodide-build==$pyodide_build_version" setuptools wheel
fi
pyodide="$work/venv/bin/pyodide"
# build-recipes calls `pyodide` from PATH.
export PATH="$work/venv/bin:$PATH"

# The cross-build environment, from emwheel's target: Pyodide's layout, Makefile.envs with the
# values pyodide-build reads, and the Emscripten version of the emcc both tools use.
root="$work/xbuildenv/pyodide-root"
install="$root/cpython/installs/python-$python_version"
rm -rf "$work/xbuildenv"
mkdir -p "$install" "$root/dist"
# The pins of Pyodide's cross-build packages (numpy, …): none are needed for these cases.
: >"$work/xbuildenv/requirements.txt"
ln -s "$target_dir/cpython/installs/python-$python_version/include" "$install/include"
ln -s "$target_dir/sysconfig" "$install/sysconfigdata"
ln -s "$target_dir/runtime/pyodide-lock.json" "$root/dist/pyodide-lock.json"
cat >"$root/Makefile.envs" <<EOF
export PYVERSION ?= $python_version
export PYODIDE_EMSCRIPTEN_VERSION ?= $emcc_version
export PYODIDE_VERSION ?= $target
export PYODIDE_ABI_VERSION ?= $(config abi_version)
export PLATFORM_TRIPLET=wasm32-emscripten
export SYSCONFIG_NAME=_sysconfigdata__emscripten_\$(PLATFORM_TRIPLET)
export PYMAJOR=${python_version%%.*}
export PYMINOR=$(echo "$python_version" | cut -d. -f2)
export PYMICRO=${python_version##*.}
export CPYTHONINSTALL=\$(PYODIDE_ROOT)/cpython/installs/python-\$(PYVERSION)
export TARGETINSTALLDIR=\$(CPYTHONINSTALL)
export SYSCONFIGDATA_DIR=\$(CPYTHONINSTALL)/sysconfigdata/
export PYTHONINCLUDE=\$(CPYTHONINSTALL)/include/python\$(PYMAJOR).\$(PYMINOR)
export CFLAGS_BASE=-O2 -g0 -fPIC -fwasm-exceptions -sSUPPORT_LONGJMP
export LDFLAGS_BASE=-O2 -g0 -sWASM_BIGINT -fwasm-exceptions -sSUPPORT_LONGJMP
export CXXFLAGS_BASE=
.output_vars:
	set
EOF
export PYODIDE_ROOT="$root"

# The sources: MarkupSafe's and six's sdists, unpacked once.
sources="$work/sources"
if [ ! -d "$sources/markupsafe" ]; then
  mkdir -p "$sources"
  "$host_python" -m pip download --quiet --no-deps --no-binary :all: -d "$sources" MarkupSafe==2.1.5 six==1.16.0
  tar -xzf "$sources"/MarkupSafe-2.1.5.tar.gz -C "$sources" && mv "$sources/MarkupSafe-2.1.5" "$sources/markupsafe"
  tar -xzf "$sources"/six-1.16.0.tar.gz -C "$sources" && mv "$sources/six-1.16.0" "$sources/six"
fi
if [ -n "$numpy" ] && [ ! -d "$sources/numpy" ]; then
  "$host_python" -m pip download --quiet --no-deps --no-binary :all: -d "$sources" numpy==2.2.5
  tar -xzf "$sources"/numpy-2.2.5.tar.gz -C "$sources" && mv "$sources/numpy-2.2.5" "$sources/numpy"
fi

# Seconds one command takes (its output goes to a log; a failure stops the benchmark).
seconds() {
  local log="$work/last.log" start end
  start=$(date +%s.%N)
  if ! "$@" >"$log" 2>&1; then
    echo "failed: $*" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One case: a name, the emwheel command, the pyodide-build command; run alternating.
declare -a rows=()
compare() {
  local name="$1" ours="$2" theirs="$3" a=() b=() i
  for ((i = 0; i < rounds; i++)); do
    rm -rf "$work/out-emwheel" "$work/out-pyodide"
    a+=("$(seconds bash -c "$ours")")
    b+=("$(seconds bash -c "$theirs")")
  done
  local ma mb
  ma=$(printf '%s\n' "${a[@]}" | median)
  mb=$(printf '%s\n' "${b[@]}" | median)
  rows+=("| $name | $(printf '%.2f' "$ma") s | $(printf '%.2f' "$mb") s | $(echo "scale=2; $mb / $ma" | bc)× |")
  echo "$name: emwheel $ma s, pyodide-build $mb s" >&2
}

# Builds in a fresh copy of the source each time, as a developer's first build would.
fresh() { rm -rf "$work/src-$1" && cp -r "$sources/$1" "$work/src-$1" && echo "$work/src-$1"; }
export -f fresh
export work sources

# A Pyodide meta.yaml recipe both tools read, for the no-op rebuild (a local source: pyodide-build
# downloads with its own HTTP client, which cannot reach PyPI's files here; pip can).
mkdir -p "$work/recipes/markupsafe"
cat >"$work/recipes/markupsafe/meta.yaml" <<YAML
package:
  name: markupsafe
  version: 2.1.5
source:
  path: $sources/markupsafe
YAML

compare "CLI start-up (--version)" "$emwheel --version" "$pyodide --version"
compare "MarkupSafe 2.1.5 (pyodide-build isolated)" \
  "$emwheel build \$(fresh markupsafe) -o $work/out-emwheel --target $target --no-progress" \
  "cd \$(fresh markupsafe) && $pyodide build -o $work/out-pyodide"
compare "MarkupSafe 2.1.5 (pyodide-build -n)" \
  "$emwheel build \$(fresh markupsafe) -o $work/out-emwheel --target $target --no-progress" \
  "cd \$(fresh markupsafe) && $pyodide build -n -o $work/out-pyodide"
compare "six 1.16.0 (pure)" \
  "$emwheel build \$(fresh six) -o $work/out-emwheel --target $target --no-progress" \
  "cd \$(fresh six) && $pyodide build -n -o $work/out-pyodide"
"$emwheel" build-recipes markupsafe --recipe-dir "$work/recipes" -o "$work/recipes-emwheel" --target "$target" --no-progress >/dev/null 2>&1
(cd "$work" && "$pyodide" build-recipes markupsafe --recipe-dir "$work/recipes" --install-dir "$work/recipes-pyodide" >/dev/null 2>&1)
compare "markupsafe recipe, no-op rebuild" \
  "$emwheel build-recipes markupsafe --recipe-dir $work/recipes -o $work/recipes-emwheel --target $target --no-progress" \
  "cd $work && $pyodide build-recipes markupsafe --recipe-dir $work/recipes --install-dir $work/recipes-pyodide"
if [ -n "$numpy" ]; then
  compare "numpy 2.2.5 (-Dallow-noblas=true)" \
    "$emwheel build \$(fresh numpy) -o $work/out-emwheel --target $target --no-progress -C setup-args=-Dallow-noblas=true" \
    "cd \$(fresh numpy) && $pyodide build -n -o $work/out-pyodide -C setup-args=-Dallow-noblas=true"
fi

echo
echo "emcc $emcc_version, pyodide-build $pyodide_build_version, median of $rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| case | emwheel | pyodide-build | pyodide-build / emwheel |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
