//! Repairing an unpacked wheel for the target: extension-suffix renames, the side-module
//! check, and retagging of the name and `WHEEL` file
//! ([PEP 427](https://peps.python.org/pep-0427/#file-contents),
//! [PEP 783](https://peps.python.org/pep-0783/)).

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::unpack::archive_path;
use super::{wasm, TargetTags, UnpackedWheel, WheelError};

/// What [`UnpackedWheel::repair`] changed and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Extension modules renamed from a host suffix, as `(old, new)` archive paths.
    pub renamed: Vec<(String, String)>,
    /// Every `.so` in the wheel (after renaming), each a checked wasm side module.
    pub extensions: Vec<String>,
}

impl RepairReport {
    /// True if the wheel ships at least one extension module or shared library.
    pub fn has_extensions(&self) -> bool {
        !self.extensions.is_empty()
    }
}

impl UnpackedWheel {
    /// Renames host-suffixed extension modules to `target.ext_suffix`, checks that every
    /// `.so` is a wasm side module, then retags the wheel (name and `WHEEL`) for `target`.
    pub fn repair(&mut self, target: &TargetTags) -> Result<RepairReport, WheelError> {
        let mut report = RepairReport::default();
        for path in self.shared_objects()? {
            let path = self.rename_extension(path, &target.ext_suffix, &mut report)?;
            report.extensions.push(self.check_side_module(&path)?);
        }
        let name = self.name.retag(target, report.has_extensions());
        if !name.is_pure() {
            self.write_tags(&name.expanded_tags(), false)?;
        }
        self.name = name;
        Ok(report)
    }

    /// Marks a pure wheel whose sources were replaced by bytecode as specific to one Python
    /// (`cp313-none-any`): bytecode loads only in the version that made it. Platform wheels
    /// already carry their Python tag.
    pub fn retag_for_bytecode(&mut self, python_tag: &str) -> Result<(), WheelError> {
        if !self.name.is_pure() {
            return Ok(());
        }
        self.name.python_tag = python_tag.to_string();
        self.write_tags(&self.name.expanded_tags(), true)
    }

    fn write_tags(&self, tags: &[String], purelib: bool) -> Result<(), WheelError> {
        let wheel_file = self.root.join(&self.dist_info).join("WHEEL");
        let text = fs_err::read_to_string(&wheel_file)?;
        fs_err::write(&wheel_file, retag_metadata(&text, tags, purelib))?;
        Ok(())
    }

    /// Every `*.so` file in the tree, in sorted order.
    pub(super) fn shared_objects(&self) -> Result<Vec<PathBuf>, WheelError> {
        let mut found = Vec::new();
        for entry in WalkDir::new(&self.root)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry?;
            let is_so = entry.file_name().to_string_lossy().ends_with(".so");
            if is_so && entry.file_type().is_file() {
                found.push(entry.into_path());
            }
        }
        Ok(found)
    }

    /// Checks that `path` is a wasm side module; returns its archive path.
    fn check_side_module(&self, path: &Path) -> Result<String, WheelError> {
        let entry = archive_path(&self.root, path)?;
        match wasm::check_side_module(&fs_err::read(path)?) {
            Ok(()) => Ok(entry),
            Err(reason) => Err(WheelError::NotSideModule {
                path: entry.into(),
                reason,
            }),
        }
    }

    /// Renames `path` if it carries a host extension suffix; returns the (new) path.
    fn rename_extension(
        &self,
        path: PathBuf,
        ext_suffix: &str,
        report: &mut RepairReport,
    ) -> Result<PathBuf, WheelError> {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let Some(new_name) = target_file_name(&file_name, ext_suffix) else {
            return Ok(path);
        };
        let new_path = path.with_file_name(new_name);
        let (old, new) = (
            archive_path(&self.root, &path)?,
            archive_path(&self.root, &new_path)?,
        );
        if new_path.exists() {
            let (from, to) = (old.into(), new.into());
            return Err(WheelError::RenameCollision { from, to });
        }
        fs_err::rename(&path, &new_path)?;
        report.renamed.push((old, new));
        Ok(new_path)
    }
}

/// The target file name for an extension module, or `None` if it keeps its name.
///
/// `mod.cpython-3XY-<host>.so` becomes `mod<ext_suffix>`; `mod.abi3.so` and bare
/// `mod.so` are loadable as they are.
pub fn target_file_name(file_name: &str, ext_suffix: &str) -> Option<String> {
    let (stem, tag) = file_name.strip_suffix(".so")?.rsplit_once('.')?;
    let renamed = format!("{stem}{ext_suffix}");
    (tag.starts_with("cpython-") && renamed != file_name).then_some(renamed)
}

/// Rewrites the `WHEEL` metadata: `Tag:` lines replaced by `tags` (where the first one was),
/// and `Root-Is-Purelib` set to `purelib`.
pub fn retag_metadata(text: &str, tags: &[String], purelib: bool) -> String {
    let purelib_line = format!("Root-Is-Purelib: {purelib}");
    let mut lines: Vec<String> = Vec::new();
    let (mut tagged, mut has_purelib) = (false, false);
    for line in text.trim_end().lines() {
        match line.split_once(':').map(|(key, _)| key.trim()) {
            Some("Tag") if tagged => {}
            Some("Tag") => {
                lines.extend(tags.iter().map(|t| format!("Tag: {t}")));
                tagged = true;
            }
            Some("Root-Is-Purelib") => {
                lines.push(purelib_line.clone());
                has_purelib = true;
            }
            _ => lines.push(line.to_owned()),
        }
    }
    if !has_purelib {
        lines.push(purelib_line);
    }
    if !tagged {
        lines.extend(tags.iter().map(|t| format!("Tag: {t}")));
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::testutil::{build_wheel, side_module, target};
    use crate::wheel::unpack;
    use pretty_assertions::assert_eq;

    const EXT: &str = ".cpython-313-wasm32-emscripten.so";

    #[test]
    fn renames_host_suffixes_only() {
        let cases = [
            (
                "m.cpython-313-x86_64-linux-gnu.so",
                Some("m.cpython-313-wasm32-emscripten.so"),
            ),
            (
                "m.cpython-311-x86_64-linux-gnu.so",
                Some("m.cpython-313-wasm32-emscripten.so"),
            ),
            (
                "m.cpython-313-darwin.so",
                Some("m.cpython-313-wasm32-emscripten.so"),
            ),
            ("m.cpython-313-wasm32-emscripten.so", None),
            ("m.abi3.so", None),
            ("libfoo.so", None),
            ("m.py", None),
        ];
        for (file, want) in cases {
            assert_eq!(target_file_name(file, EXT).as_deref(), want, "{file}");
        }
    }

    #[test]
    fn rewrites_wheel_metadata() {
        let text = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: cp313-cp313-linux_x86_64\n\
                    Tag: cp313-cp313-manylinux1_x86_64\nBuild: 1\n\n";
        let tags = ["cp313-cp313-pyemscripten_2025_0_wasm32".to_owned()];
        let want = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n\
                    Tag: cp313-cp313-pyemscripten_2025_0_wasm32\nBuild: 1\n";
        assert_eq!(retag_metadata(text, &tags, false), want);
        let bare = retag_metadata("Wheel-Version: 1.0\n", &tags, false);
        let want = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n\
                    Tag: cp313-cp313-pyemscripten_2025_0_wasm32\n";
        assert_eq!(bare, want);
    }

    fn repaired(tmp: &Path, file: &str, files: &[(&str, &[u8])]) -> (UnpackedWheel, RepairReport) {
        let wheel = build_wheel(tmp, file, files);
        let mut unpacked = unpack(&wheel, &tmp.join("tree")).unwrap();
        let report = unpacked.repair(&target()).unwrap();
        (unpacked, report)
    }

    #[test]
    fn repairs_a_platform_wheel() {
        let so = side_module();
        let files: &[(&str, &[u8])] = &[
            ("pkg/_core.cpython-313-x86_64-linux-gnu.so", &so),
            ("pkg/libhelper.so", &so),
        ];
        let tmp = tempfile::tempdir().unwrap();
        let file = "pkg-1.0-cp313-cp313-linux_x86_64.whl";
        let (unpacked, report) = repaired(tmp.path(), file, files);
        let want = "pkg-1.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl";
        assert_eq!(unpacked.name().to_string(), want);
        let core = format!("pkg/_core{EXT}");
        let old = "pkg/_core.cpython-313-x86_64-linux-gnu.so".to_owned();
        assert_eq!(report.renamed, [(old, core.clone())]);
        assert_eq!(report.extensions, [core, "pkg/libhelper.so".to_owned()]);
        let wheel_file = unpacked.root().join("pkg-1.0.dist-info/WHEEL");
        let text = fs_err::read_to_string(wheel_file).unwrap();
        assert!(
            text.contains("\nTag: cp313-cp313-pyemscripten_2025_0_wasm32\n"),
            "{text}"
        );
        assert!(text.contains("Root-Is-Purelib: false"), "{text}");
    }

    #[test]
    fn keeps_abi3_and_pure_tags() {
        let (so, tmp) = (side_module(), tempfile::tempdir().unwrap());
        let file = "pkg-1.0-cp39-abi3-linux_x86_64.whl";
        let (abi3, _) = repaired(tmp.path(), file, &[("pkg/m.abi3.so", &so)]);
        let want = "pkg-1.0-cp39-abi3-pyemscripten_2025_0_wasm32.whl";
        assert_eq!(abi3.name().to_string(), want);
        let tmp = tempfile::tempdir().unwrap();
        let file = "pkg-1.0-py3-none-any.whl";
        let (pure, report) = repaired(tmp.path(), file, &[("pkg/a.py", b"")]);
        assert_eq!(pure.name().to_string(), "pkg-1.0-py3-none-any.whl");
        assert!(!report.has_extensions());
    }

    #[test]
    fn bytecode_pins_pure_wheels_to_one_python() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut pure, _) = repaired(tmp.path(), "pkg-1.0-py2.py3-none-any.whl", &[]);
        pure.retag_for_bytecode("cp313").unwrap();
        assert_eq!(pure.name().to_string(), "pkg-1.0-cp313-none-any.whl");
        let wheel_file = pure.root().join("pkg-1.0.dist-info/WHEEL");
        let text = fs_err::read_to_string(wheel_file).unwrap();
        assert!(text.contains("Tag: cp313-none-any\n"), "{text}");
        assert!(text.contains("Root-Is-Purelib: true"), "{text}");
        let tmp = tempfile::tempdir().unwrap();
        let platform = "pkg-1.0-cp313-cp313-linux_x86_64.whl";
        let (mut compiled, _) = repaired(tmp.path(), platform, &[]);
        let before = compiled.name().to_string();
        compiled.retag_for_bytecode("cp313").unwrap();
        assert_eq!(compiled.name().to_string(), before);
    }

    #[test]
    fn rejects_host_objects_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let elf: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        let wheel = build_wheel(
            tmp.path(),
            "pkg-1.0-cp313-cp313-linux_x86_64.whl",
            &[("pkg/m.cpython-313-x86_64-linux-gnu.so", elf)],
        );
        let mut unpacked = unpack(&wheel, &tmp.path().join("tree")).unwrap();
        let err = unpacked.repair(&target()).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("`pkg/m{EXT}` is not a wasm32")),
            "{err}"
        );
        assert!(err.contains("ELF"), "{err}");
    }

    #[test]
    fn refuses_to_overwrite_on_rename() {
        let tmp = tempfile::tempdir().unwrap();
        let so = side_module();
        let files: &[(&str, &[u8])] = &[
            ("pkg/m.cpython-311-x86_64-linux-gnu.so", &so),
            ("pkg/m.cpython-313-wasm32-emscripten.so", &so),
        ];
        let wheel = build_wheel(tmp.path(), "pkg-1.0-cp313-cp313-linux_x86_64.whl", files);
        let mut unpacked = unpack(&wheel, &tmp.path().join("tree")).unwrap();
        let err = unpacked.repair(&target()).unwrap_err();
        assert!(matches!(err, WheelError::RenameCollision { .. }), "{err}");
    }
}
