//! Test helpers: the target, tiny wasm side modules, and wheels built with the zip crate.

use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use super::{TargetTags, WheelName};

/// The Pyodide 2025 / CPython 3.13 target.
pub fn target() -> TargetTags {
    TargetTags {
        python_tag: "cp313".into(),
        platform_tag: "pyemscripten_2025_0_wasm32".into(),
        ext_suffix: ".cpython-313-wasm32-emscripten.so".into(),
    }
}

/// Encodes `n` (< 2^14) as a padded two-byte LEB128, to exercise multi-byte decoding.
fn leb_padded(n: usize) -> [u8; 2] {
    [(n as u8 & 0x7f) | 0x80, (n >> 7) as u8]
}

/// A wasm section with `id` and `payload`.
pub fn section(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(leb_padded(payload.len()));
    out.extend_from_slice(payload);
    out
}

/// A custom section (`id` 0) named `name`.
pub fn custom_section(name: &[u8], body: &[u8]) -> Vec<u8> {
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(body);
    section(0, &payload)
}

/// The 8-byte wasm preamble: magic and version 1.
pub const PREAMBLE: &[u8] = b"\0asm\x01\0\0\0";

/// A minimal side module: preamble, `dylink.0`, then an empty type section.
pub fn side_module() -> Vec<u8> {
    let mut bytes = PREAMBLE.to_vec();
    bytes.extend(custom_section(b"dylink.0", &[1, 4, 0, 0, 0, 0]));
    bytes.extend(section(1, &[0]));
    bytes
}

/// Writes a zip at `path` holding `(name, data, unix mode)` entries, in order.
pub fn zip_file(path: &Path, entries: &[(&str, &[u8], u32)]) {
    let mut zip = ZipWriter::new(fs_err::File::create(path).unwrap());
    for (name, data, mode) in entries {
        let options = SimpleFileOptions::default().unix_permissions(*mode);
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

/// Builds `dir/file_name` with `files`, a `WHEEL` tagged from the name, and `METADATA`.
/// Files under `.data/scripts/` are executable.
pub fn build_wheel(dir: &Path, file_name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let name: WheelName = file_name.parse().unwrap();
    let info = format!("{}-{}.dist-info", name.distribution, name.version);
    let tags: String = name
        .expanded_tags()
        .iter()
        .map(|t| format!("Tag: {t}\n"))
        .collect();
    let wheel = format!("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n{tags}");
    let metadata = format!("Metadata-Version: 2.1\nName: {}\n", name.distribution);
    let (wheel_path, metadata_path) = (format!("{info}/WHEEL"), format!("{info}/METADATA"));
    let mut entries: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(n, d)| {
            (
                *n,
                *d,
                if n.contains(".data/scripts/") {
                    0o755
                } else {
                    0o644
                },
            )
        })
        .collect();
    entries.push((&wheel_path, wheel.as_bytes(), 0o644));
    entries.push((&metadata_path, metadata.as_bytes(), 0o644));
    let path = dir.join(file_name);
    zip_file(&path, &entries);
    path
}
