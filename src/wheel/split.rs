//! Moving files into and out of an unpacked wheel: shared libraries its side modules need are
//! copied in (`vendor-sharedlib`), and test files are moved out (`unvendor-tests`).
//!
//! Vendored libraries go to `<distribution>.libs/` at the wheel's root: Pyodide's loader looks
//! for a package's needed libraries there (the auditwheel convention). Tests are found by
//! Pyodide's rules: `test/` and `tests/` directories, `test_*.py`, `*_test.py` and
//! `conftest.py`, outside `.dist-info` and `.data`.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::unpack::archive_path;
use super::{wasm, UnpackedWheel, WheelError};

impl UnpackedWheel {
    /// Copies every shared library the wheel's side modules need, and that the wheel does
    /// not hold, from the first of `search_dirs` that has it into `<distribution>.libs/`;
    /// then the same for the copied libraries. Each module that needs one gets a `dylink.0`
    /// runtime path to that directory, where Emscripten's loader looks. Returns the copied
    /// archive paths.
    pub fn vendor_shared_libraries(
        &self,
        search_dirs: &[PathBuf],
    ) -> Result<Vec<String>, WheelError> {
        let libs_name = format!("{}.libs", self.name.distribution);
        let libs_dir = self.root.join(&libs_name);
        let mut pending = self.shared_objects()?;
        let mut vendored = Vec::new();
        while let Some(module) = pending.pop() {
            let bytes = fs_err::read(&module)?;
            let not_side_module = |reason| WheelError::NotSideModule {
                path: archive_path(&self.root, &module).unwrap_or_default().into(),
                reason,
            };
            let needed = wasm::needed_libraries(&bytes).map_err(not_side_module)?;
            let mut uses_libs_dir = false;
            for library in needed {
                let dest = libs_dir.join(&library);
                if dest.is_file() {
                    uses_libs_dir = true;
                    continue;
                }
                if self.holds_file_named(&library)? {
                    continue;
                }
                let found = search_dirs
                    .iter()
                    .map(|d| d.join(&library))
                    .find(|p| p.is_file());
                let Some(found) = found else {
                    return Err(WheelError::SharedLibraryNotFound {
                        library,
                        needed_by: archive_path(&self.root, &module)?,
                        searched: search_dirs.to_vec(),
                    });
                };
                fs_err::create_dir_all(&libs_dir)?;
                fs_err::copy(found, &dest)?;
                vendored.push(archive_path(&self.root, &dest)?);
                pending.push(dest);
                uses_libs_dir = true;
            }
            if uses_libs_dir {
                let rpath = runtime_path(&self.root, &module, &libs_name);
                let updated = wasm::set_runtime_path(&bytes, &[rpath]).map_err(not_side_module)?;
                fs_err::write(&module, updated)?;
            }
        }
        vendored.sort();
        Ok(vendored)
    }

    fn holds_file_named(&self, name: &str) -> Result<bool, WheelError> {
        for entry in WalkDir::new(&self.root) {
            let entry = entry?;
            if entry.file_type().is_file() && entry.file_name() == name {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Moves the wheel's test files into `dest` (same relative paths); returns their archive
    /// paths, sorted. Nothing is created in `dest` when there are none.
    pub fn unvendor_tests(&self, dest: &Path) -> Result<Vec<String>, WheelError> {
        let mut found = Vec::new();
        let mut walker = WalkDir::new(&self.root).min_depth(1).into_iter();
        while let Some(entry) = walker.next() {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy();
            let is_dir = entry.file_type().is_dir();
            if is_dir && (name.ends_with(".dist-info") || name.ends_with(".data")) {
                walker.skip_current_dir();
            } else if is_dir && entry.depth() > 1 && matches!(&*name, "test" | "tests") {
                walker.skip_current_dir();
                found.push(entry.into_path());
            } else if !is_dir && is_test_file(&name) {
                found.push(entry.into_path());
            }
        }
        let mut moved = Vec::new();
        for path in found {
            let relative = archive_path(&self.root, &path)?;
            let target = dest.join(&relative);
            fs_err::create_dir_all(target.parent().expect("below dest"))?;
            fs_err::rename(&path, &target)?;
            moved.push(relative);
        }
        moved.sort();
        Ok(moved)
    }
}

/// `$ORIGIN/` and the way from `module`'s directory up to the wheel root and into `libs_name`.
fn runtime_path(root: &Path, module: &Path, libs_name: &str) -> String {
    let depth = module
        .parent()
        .and_then(|dir| dir.strip_prefix(root).ok())
        .map_or(0, |dir| dir.components().count());
    match depth {
        1 if module.parent() == Some(&root.join(libs_name)) => "$ORIGIN".to_string(),
        _ => format!("$ORIGIN/{}{libs_name}", "../".repeat(depth)),
    }
}

/// `test_*.py`, `*_test.py` or `conftest.py`.
fn is_test_file(name: &str) -> bool {
    name.ends_with(".py")
        && (name.starts_with("test_") || name.ends_with("_test.py") || name == "conftest.py")
}

#[cfg(test)]
mod tests {
    use crate::wheel::testutil::{build_wheel, custom_section, side_module, PREAMBLE};
    use crate::wheel::unpack;
    use crate::wheel::wasm::set_runtime_path;

    #[test]
    fn moves_tests_out_by_pyodide_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let files: &[(&str, &[u8])] = &[
            ("pkg/__init__.py", b""),
            ("pkg/testing.py", b""),
            ("pkg/tests/__init__.py", b""),
            ("pkg/tests/data.json", b""),
            ("pkg/sub/test_x.py", b""),
            ("pkg/sub/x_test.py", b""),
            ("pkg/conftest.py", b""),
            ("tests/top_level_is_kept.py", b""),
            ("pkg-1.0.data/data/tests/kept.py", b""),
        ];
        let wheel = build_wheel(tmp.path(), "pkg-1.0-py3-none-any.whl", files);
        let unpacked = unpack(&wheel, &tmp.path().join("tree")).unwrap();
        let dest = tmp.path().join("tests");
        let moved = unpacked.unvendor_tests(&dest).unwrap();
        assert_eq!(
            moved,
            [
                "pkg/conftest.py",
                "pkg/sub/test_x.py",
                "pkg/sub/x_test.py",
                "pkg/tests"
            ]
        );
        assert!(dest.join("pkg/tests/data.json").is_file());
        assert!(unpacked.root().join("pkg/testing.py").is_file());
        assert!(unpacked.root().join("tests/top_level_is_kept.py").is_file());
        assert!(!unpacked.root().join("pkg/tests").exists());
        let none = tmp.path().join("none");
        assert!(unpacked.unvendor_tests(&none).unwrap().is_empty());
        assert!(!none.exists());
    }

    /// A side module that needs `libs`.
    fn needing(libs: &[&str]) -> Vec<u8> {
        let mut needed = vec![libs.len() as u8];
        for lib in libs {
            needed.push(lib.len() as u8);
            needed.extend_from_slice(lib.as_bytes());
        }
        let mut dylink = vec![1, 4, 0, 0, 0, 0, 2, needed.len() as u8];
        dylink.extend(needed);
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend(custom_section(b"dylink.0", &dylink));
        bytes
    }

    #[test]
    fn vendors_needed_libraries_transitively() {
        let tmp = tempfile::tempdir().unwrap();
        let lib_dir = tmp.path().join("prefix/lib");
        fs_err::create_dir_all(&lib_dir).unwrap();
        fs_err::write(lib_dir.join("liba.so"), needing(&["libb.so"])).unwrap();
        fs_err::write(lib_dir.join("libb.so"), side_module()).unwrap();
        let module = needing(&["liba.so", "libinwheel.so"]);
        let files: &[(&str, &[u8])] = &[
            ("pkg/_m.cpython-313-wasm32-emscripten.so", &module),
            ("pkg/libinwheel.so", &side_module()),
        ];
        let wheel = build_wheel(tmp.path(), "pkg-1.0-cp313-cp313-linux_x86_64.whl", files);
        let unpacked = unpack(&wheel, &tmp.path().join("tree")).unwrap();
        let vendored = unpacked
            .vendor_shared_libraries(std::slice::from_ref(&lib_dir))
            .unwrap();
        assert_eq!(vendored, ["pkg.libs/liba.so", "pkg.libs/libb.so"]);
        let module = fs_err::read(unpacked.root().join(files[0].0)).unwrap();
        let expected = set_runtime_path(
            &needing(&["liba.so", "libinwheel.so"]),
            &["$ORIGIN/../pkg.libs".into()],
        );
        assert_eq!(module, expected.unwrap());
        let liba = fs_err::read(unpacked.root().join("pkg.libs/liba.so")).unwrap();
        assert_eq!(
            liba,
            set_runtime_path(&needing(&["libb.so"]), &["$ORIGIN".into()]).unwrap()
        );

        fs_err::remove_file(lib_dir.join("libb.so")).unwrap();
        let tree = tmp.path().join("tree2");
        let unpacked = unpack(&wheel, &tree).unwrap();
        let error = unpacked.vendor_shared_libraries(&[lib_dir]).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("`libb.so`, needed by `pkg.libs/liba.so`, is not in "),
            "{message}"
        );
    }
}
