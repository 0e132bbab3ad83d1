//! Unpacking a wheel into a directory, refusing entries that could escape it (zip slip).

use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::{WheelError, WheelName};
use crate::archive::ArchiveError;

/// A wheel unpacked into a directory, ready to be repaired and written back.
#[derive(Debug)]
pub struct UnpackedWheel {
    pub(super) root: PathBuf,
    pub(super) name: WheelName,
    pub(super) dist_info: String,
    /// The deflate level [`UnpackedWheel::write`] uses (`None`: the default).
    pub(super) compression_level: Option<u8>,
}

impl UnpackedWheel {
    /// The directory holding the unpacked tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The wheel's current name (updated by [`UnpackedWheel::repair`]).
    pub fn name(&self) -> &WheelName {
        &self.name
    }
}

/// Unpacks `wheel` into `dir` (which should be empty) and finds its `.dist-info` directory.
///
/// The zip goes through [`crate::archive`]'s checks: absolute paths, `..` components,
/// backslashes, links, devices and duplicate names are rejected with
/// [`WheelError::UnsafeEntry`] naming the entry.
pub fn unpack(wheel: &Path, dir: &Path) -> Result<UnpackedWheel, WheelError> {
    let name = wheel_file_name(wheel)?.parse()?;
    fs_err::create_dir_all(dir)?;
    crate::archive::unpack(wheel, dir).map_err(|error| match error {
        ArchiveError::Refused { entry, reason, .. } => WheelError::UnsafeEntry {
            wheel: wheel.to_owned(),
            entry,
            reason,
        },
        other => WheelError::Archive(other),
    })?;
    let dist_info = find_dist_info(wheel, dir)?;
    let root = dir.to_owned();
    Ok(UnpackedWheel {
        root,
        name,
        dist_info,
        compression_level: None,
    })
}

/// The file-name part of `wheel` as UTF-8.
pub(super) fn wheel_file_name(wheel: &Path) -> Result<&str, WheelError> {
    wheel
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| WheelError::InvalidName {
            name: wheel.display().to_string(),
            reason: "not a UTF-8 file name".into(),
        })
}

/// Opens `wheel` as a zip archive.
pub(super) fn open_archive(wheel: &Path) -> Result<ZipArchive<fs_err::File>, WheelError> {
    ZipArchive::new(fs_err::File::open(wheel)?).map_err(zip_error(wheel))
}

/// Wraps a zip error with the wheel it came from.
pub(super) fn zip_error(wheel: &Path) -> impl Fn(zip::result::ZipError) -> WheelError + '_ {
    |source| WheelError::Zip {
        wheel: wheel.to_owned(),
        source,
    }
}

/// The `/`-separated archive path of `path`, which lies under `root`.
pub(super) fn archive_path(root: &Path, path: &Path) -> Result<String, WheelError> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = relative.iter().map(|p| p.to_str()).collect();
    parts
        .map(|p| p.join("/"))
        .ok_or_else(|| WheelError::NonUtf8Path {
            path: path.to_owned(),
        })
}

/// Finds the single top-level `*.dist-info` directory of an unpacked wheel.
fn find_dist_info(wheel: &Path, dir: &Path) -> Result<String, WheelError> {
    let mut found = Vec::new();
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".dist-info") && entry.file_type()?.is_dir() {
            found.push(name);
        }
    }
    match <[String; 1]>::try_from(found) {
        Ok([one]) => Ok(one),
        Err(found) => Err(WheelError::DistInfo {
            wheel: wheel.to_owned(),
            found: found.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::testutil::{build_wheel, zip_file};

    #[test]
    fn unpacks_files_and_finds_dist_info() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = build_wheel(
            tmp.path(),
            "pkg-1.0-py3-none-any.whl",
            &[("pkg/a.py", b"x")],
        );
        let out = tmp.path().join("out");
        let unpacked = unpack(&wheel, &out).unwrap();
        assert_eq!(unpacked.dist_info, "pkg-1.0.dist-info");
        assert_eq!(fs_err::read(out.join("pkg/a.py")).unwrap(), b"x");
        assert_eq!(unpacked.name().to_string(), "pkg-1.0-py3-none-any.whl");
    }

    #[test]
    fn rejects_zip_slip_naming_the_entry() {
        let cases = [
            ("../evil.py", "`..`"),
            ("pkg/../../evil.py", "`..`"),
            ("/etc/passwd", "absolute"),
            ("C:/evil.py", "absolute"),
            ("pkg\\..\\evil.py", "backslash"),
        ];
        for (entry, reason) in cases {
            let tmp = tempfile::tempdir().unwrap();
            let wheel = tmp.path().join("pkg-1.0-py3-none-any.whl");
            zip_file(&wheel, &[(entry, b"boom", 0o644)]);
            let err = unpack(&wheel, &tmp.path().join("out"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("unsafe entry `{entry}`")), "{err}");
            assert!(err.contains(reason), "{err}");
            assert!(!tmp.path().join("evil.py").exists());
        }
    }

    #[test]
    fn rejects_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = tmp.path().join("pkg-1.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&wheel).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.add_symlink("pkg/link", "/etc/passwd", options).unwrap();
        zip.finish().unwrap();
        let err = unpack(&wheel, &tmp.path().join("out"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unsafe entry `pkg/link` (it is a symbolic link, which a wheel"),
            "{err}"
        );
    }

    #[test]
    fn rejects_a_name_stored_twice() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = build_wheel(
            tmp.path(),
            "pkg-1.0-py3-none-any.whl",
            &[("pkg/a.py", b"good"), ("pkg/b.py", b"evil")],
        );
        let mut bytes = fs_err::read(&wheel).unwrap();
        crate::archive::tests::rename_in_place(&mut bytes, "pkg/b.py", "pkg/a.py");
        fs_err::write(&wheel, bytes).unwrap();
        let err = unpack(&wheel, &tmp.path().join("out"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unsafe entry `pkg/a.py` (an earlier entry"),
            "{err}"
        );
    }

    #[test]
    fn requires_exactly_one_dist_info() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = tmp.path().join("pkg-1.0-py3-none-any.whl");
        zip_file(&wheel, &[("pkg/a.py", b"", 0o644)]);
        let err = unpack(&wheel, &tmp.path().join("out")).unwrap_err();
        assert!(
            matches!(err, WheelError::DistInfo { found: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn rejects_non_zip_files() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = tmp.path().join("pkg-1.0-py3-none-any.whl");
        fs_err::write(&wheel, b"not a zip").unwrap();
        let err = unpack(&wheel, &tmp.path().join("out"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a readable archive"), "{err}");
    }
}
