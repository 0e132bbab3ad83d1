#!/usr/bin/env bash
# The sweep over Pyodide's real recipe tree: builds every package recipe of a pyodide-recipes
# checkout whose source is a PyPI sdist or wheel, unmodified, for one target with
# `build-recipes --keep-going`, then installs each built wheel in that Pyodide and imports its
# `top-level` names (`emwheel test <recipe>`), and writes a table: built / imports / failed with
# the first error line, totals, and the time taken.
#
# It fetches nothing itself but what the recipes' sources are (from PyPI) and the build
# environments need. Recipes left out, each listed in the table: Rust ones (emwheel does not
# build Rust yet), sources off PyPI (GitHub and other hosts are unreachable on these machines),
# libraries (built when a selected package needs them) and recipes Pyodide itself disables.
#
# Usage: benches/pyodide_recipes.sh CHECKOUT [OUT_DIR] [TARGET]
#   CHECKOUT  a pyodide-recipes checkout (its `packages/` holds one dir per recipe)
#   OUT_DIR   where wheels, logs and the table go (default: target/pyodide-recipes)
#   TARGET    the Pyodide version (default: 0.29.5)
# Needs scripts/setup. Builds allow the emcc mismatch, as the tests do. The table is
# OUT_DIR/sweep.md; per-package build logs are in OUT_DIR/dist/.emwheel/logs.
set -euo pipefail
checkout="$(realpath "${1:?usage: benches/pyodide_recipes.sh CHECKOUT [OUT_DIR] [TARGET]}")"
cd "$(dirname "$0")/.."
out="$(realpath -m "${2:-target/pyodide-recipes}")"
target="${3:-0.29.5}"
cargo build --release --quiet
emwheel="$PWD/target/release/emwheel"
export EMWHEEL_ALLOW_EMCC_MISMATCH=1
mkdir -p "$out"
"$emwheel" target install "$target" --quiet >/dev/null
exec python3 - "$emwheel" "$checkout/packages" "$out" "$target" <<'PY'
import concurrent.futures, json, re, subprocess, sys, time
from pathlib import Path

emwheel, recipes, out, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
start = time.time()


def classify(meta: str) -> str:
    """What the sweep does with a recipe, read from its meta.yaml text (stdlib only)."""
    if re.search(r"^\s*_disabled:\s*true", meta, re.M):
        return "disabled upstream"
    if re.search(r"^\s*type:\s*(static_library|shared_library|cpython_module)", meta, re.M):
        return "library"
    if re.search(r"rustup|maturin|setuptools-rust|cargo ", meta):
        return "rust"
    url = re.search(r"^\s*url:\s*(\S+)", meta, re.M)
    if url is None:
        return "no url"
    host = re.sub(r"^\w+://([^/]+)/.*", r"\1", url.group(1))
    if host not in ("files.pythonhosted.org", "pypi.org", "pypi.io"):
        return f"unreachable source ({host})"
    return "wheel" if url.group(1).endswith(".whl") else "sdist"


kinds = {}
for meta in sorted(recipes.glob("*/meta.yaml")):
    kinds[meta.parent.name] = classify(meta.read_text(errors="replace"))
selected = [name for name, kind in kinds.items() if kind in ("sdist", "wheel")]
print(f"sweep: {len(selected)} of {len(kinds)} recipes from PyPI, building for {target}", file=sys.stderr)

build = subprocess.run(
    [emwheel, "build-recipes", *selected, "--recipe-dir", str(recipes), "-o", str(out / "dist"),
     "--target", target, "--keep-going", "--json", "--no-progress"],
    capture_output=True, text=True)
(out / "build-recipes.stderr").write_text(build.stderr)
(out / "build-recipes.json").write_text(build.stdout)
try:
    document = json.loads(build.stdout)
except json.JSONDecodeError:
    sys.exit(f"build-recipes printed no JSON (exit {build.returncode}); see {out}/build-recipes.stderr")
built_seconds = time.time() - start


def first_line(text: str) -> str:
    for line in (text or "").splitlines():
        line = line.strip(" ×│╰─┬")
        if line:
            return line.replace("|", "\\|")[:160]
    return ""


packages = {p["name"].lower(): p for p in document.get("packages", [])}


def failure(package: dict) -> str:
    """A failure's first error line; for a package skipped because a dependency failed, the
    dependency's, so that the cause shows (a library whose source is on GitHub, …)."""
    dependency = re.search(r"dependency `([^`]+)` failed", package.get("note") or "")
    if package["status"] == "skipped" and dependency:
        cause = packages.get(dependency.group(1).lower(), {})
        return f"needs {dependency.group(1)}, which failed: {failure(cause)}" if cause else package["note"]
    text = package.get("error") or package.get("note") or ""
    host = re.search(r"Could not resolve host: (\S+)", text) or re.search(r"https?://([^/\s]+)/\S* cannot be fetched", text)
    if host:
        return f"source unreachable here ({host.group(1)})"
    return first_line(text)


rows = []
for name in selected:
    package = packages.get(name.lower())
    if package is None:
        # Recipe dirs are named as Pyodide spells the package; match loosely.
        key = re.sub(r"[-_.]+", "-", name).lower()
        package = next((p for n, p in packages.items() if re.sub(r"[-_.]+", "-", n) == key), None)
    if package is None:
        rows.append((name, kinds[name], "not built", "", "not in build-recipes' report"))
        continue
    if package["status"] not in ("built", "cached"):
        rows.append((name, kinds[name], package["status"], "", failure(package)))
        continue
    rows.append((name, kinds[name], "built", None, ""))


def test(name: str) -> tuple[bool, str]:
    """`emwheel test` of one recipe: its imports, and the test files Pyodide's recipe carries."""
    test = subprocess.run(
        [emwheel, "test", str(recipes / name), "--dist", str(out / "dist"), "--target", target, "--json"],
        capture_output=True, text=True)
    try:
        result = json.loads(test.stdout)["results"][0]
        failures = [f if isinstance(f, str) else json.dumps(f) for f in result["failures"]]
        return result["passed"], "; ".join(failures)
    except (json.JSONDecodeError, KeyError, IndexError):
        return False, test.stderr


with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    outcomes = dict(zip([r[0] for r in rows if r[3] is None], pool.map(test, [r[0] for r in rows if r[3] is None])))
rows = [
    row if row[3] is not None else
    (row[0], row[1], row[2], "passes" if outcomes[row[0]][0] else "fails", "" if outcomes[row[0]][0] else first_line(outcomes[row[0]][1]))
    for row in rows
]

imported = sum(1 for row in rows if row[3] == "passes")
built = sum(1 for row in rows if row[2] == "built")
seconds = time.time() - start
left_out = sorted((name, kind) for name, kind in kinds.items() if kind not in ("sdist", "wheel"))
lines = [
    f"Sweep of {recipes.parent} for Pyodide {target}: {len(selected)} recipes from PyPI "
    f"({sum(1 for n in selected if kinds[n] == 'sdist')} sdists, {sum(1 for n in selected if kinds[n] == 'wheel')} wheels); "
    f"**{built} built ({100 * built / max(len(selected), 1):.0f} %), {imported} "
    f"({100 * imported / max(len(selected), 1):.0f} %) pass `emwheel test` (imports and Pyodide's own test files)**; build {built_seconds / 60:.1f} min, in all {seconds / 60:.1f} min.",
    "",
    "| recipe | source | build | in Pyodide | first error |",
    "|---|---|---|---|---|",
    *[f"| {name} | {kind} | {status} | {test} | {error} |" for name, kind, status, test, error in rows],
    "",
    "Left out: " + ", ".join(f"{name} ({kind})" for name, kind in left_out) + ".",
    "",
]
skipped = document.get("skipped_recipes") or []
if skipped:
    lines += ["Recipes that did not load (warnings, outside the selection's needs):", ""]
    lines += [f"- {s.get('recipe')}: {first_line(s.get('error', ''))}" for s in skipped]
(out / "sweep.md").write_text("\n".join(lines) + "\n")
print(lines[0], file=sys.stderr)
print(out / "sweep.md")
PY
