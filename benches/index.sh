#!/usr/bin/env bash
# Times `emwheel lock` and `emwheel index` over 200 generated wheels against `sha256sum` over
# the same files: both must read every byte, so hashing is the floor.
# Usage: benches/index.sh [WHEELS] (after scripts/setup and `emwheel target install 0.29.5`).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-200}"
cargo build --release --quiet
emwheel="$PWD/target/release/emwheel"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/dist" "$count" <<'PY'
import base64, hashlib, os, sys, zipfile
dist, count = sys.argv[1], int(sys.argv[2])
os.makedirs(dist)
for i in range(count):
    name = f"bench_pkg_{i:03d}"
    files = {f"{name}/__init__.py": os.urandom(200_000).hex().encode(),
             f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
             f"{name}-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n" for path, data in files.items())
    files[f"{name}-1.0.dist-info/RECORD"] = (record + f"{name}-1.0.dist-info/RECORD,,\n").encode()
    with zipfile.ZipFile(f"{dist}/{name}-1.0-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
PY
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }
size=$(du -sh "$work/dist" | cut -f1)
hash=$(seconds sha256sum "$work"/dist/*.whl)
lock=$(seconds "$emwheel" lock "$work/dist" --target 0.29.5 -o "$work/lock.json")
index=$(seconds "$emwheel" index "$work/dist" -o "$work/site" --target 0.29.5)
printf 'wheels: %s (%s)\n' "$count" "$size"
printf 'sha256sum: %.3f s\nemwheel lock: %.3f s (%.1fx sha256sum)\nemwheel index: %.3f s (%.1fx sha256sum)\n' \
  "$hash" "$lock" "$(echo "$lock / $hash" | bc -l)" "$index" "$(echo "$index / $hash" | bc -l)"
