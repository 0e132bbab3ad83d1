//! Writing an unpacked wheel back as a deterministic zip: sorted entries with `.dist-info`
//! last, a regenerated `RECORD`, fixed timestamps and modes, and an atomic rename into place
//! ([PEP 427](https://peps.python.org/pep-0427/#recommended-archiver-features)).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::record::{format_record, HashingWriter};
use super::unpack::{archive_path, zip_error};
use super::{perm, UnpackedWheel, WheelError};
use crate::fsutil::staging_file;

/// The earliest time a zip entry can carry: 1980-01-01T00:00:00Z.
const ZIP_MIN_EPOCH: u64 = 315_532_800;
/// The latest time a zip entry can carry: 2107-12-31T23:59:58Z.
const ZIP_MAX_EPOCH: u64 = 4_354_819_198;
const SECONDS_PER_DAY: u64 = 86_400;

/// A file of the unpacked tree, as it will be stored.
struct FileEntry {
    name: String,
    path: PathBuf,
    executable: bool,
    large: bool,
}

impl UnpackedWheel {
    /// Writes the tree as `out_dir/{name}.whl` and returns that path.
    ///
    /// Every entry gets the mtime `source_date_epoch` (clamped to what zip can store), mode
    /// `0o644` or `0o755`, and deflate at the level [`UnpackedWheel::slim`] chose; `RECORD`
    /// is regenerated and written last. The zip is built in a hidden temp file in `out_dir`
    /// (`.emwheel-partial-*`) and renamed into place while holding a lock on `out_dir`, so an
    /// interrupted run leaves no partial wheel (at most a hidden temp file, which the next
    /// write removes). Equal trees and epochs give byte-identical wheels.
    pub fn write(&self, out_dir: &Path, source_date_epoch: u64) -> Result<PathBuf, WheelError> {
        let dest = out_dir.join(self.name.to_string());
        write_atomically(&dest, |file| {
            self.write_zip(file, &dest, zip_time(source_date_epoch))
        })?;
        Ok(dest)
    }

    /// Streams every file, then `RECORD`, into `file`; `dest` names the wheel in errors.
    fn write_zip(&self, file: &mut File, dest: &Path, time: DateTime) -> Result<(), WheelError> {
        let record_path = format!("{}/RECORD", self.dist_info);
        let files = self.files(&record_path)?;
        let (zip_err, mut record) = (zip_error(dest), Vec::new());
        let mut zip = ZipWriter::new(BufWriter::new(file));
        for entry in files {
            let opts = options(time, entry.executable, entry.large, self.compression_level);
            zip.start_file(entry.name.as_str(), opts)
                .map_err(&zip_err)?;
            let mut hashing = HashingWriter::new(&mut zip);
            io::copy(&mut fs_err::File::open(&entry.path)?, &mut hashing)?;
            record.push(hashing.into_entry(&entry.name));
        }
        let opts = options(time, false, false, self.compression_level);
        zip.start_file(record_path.as_str(), opts)
            .map_err(&zip_err)?;
        zip.write_all(format_record(&record, &record_path).as_bytes())?;
        zip.finish().map_err(&zip_err)?.flush()?;
        Ok(())
    }

    /// Every file to store, sorted with `.dist-info` last; the old `RECORD` and its
    /// signatures are left out since they are regenerated (or would be stale).
    fn files(&self, record_path: &str) -> Result<Vec<FileEntry>, WheelError> {
        let stale = [".jws", ".p7s", ""].map(|ext| format!("{record_path}{ext}"));
        let mut files = tree_files(&self.root)?;
        files.retain(|f| !stale.contains(&f.name));
        let dist_info = format!("{}/", self.dist_info);
        let key = |f: &FileEntry| (f.name.starts_with(&dist_info), f.name.clone());
        files.sort_by_cached_key(key);
        Ok(files)
    }
}

/// Writes the files under `root` as the zip `dest`, deterministically (sorted entries,
/// `source_date_epoch` mtimes, fixed modes) and atomically. For the archives beside wheels:
/// unvendored tests and shared libraries.
pub fn write_zip_tree(root: &Path, dest: &Path, source_date_epoch: u64) -> Result<(), WheelError> {
    let mut files = tree_files(root)?;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let time = zip_time(source_date_epoch);
    write_atomically(dest, |file| {
        let zip_err = zip_error(dest);
        let mut zip = ZipWriter::new(BufWriter::new(file));
        for entry in files {
            let opts = options(time, entry.executable, entry.large, None);
            zip.start_file(entry.name.as_str(), opts)
                .map_err(&zip_err)?;
            io::copy(&mut fs_err::File::open(&entry.path)?, &mut zip)?;
        }
        zip.finish().map_err(&zip_err)?.flush()?;
        Ok(())
    })
}

/// Writes `dest` through a temp file in its directory, renamed into place when complete.
fn write_atomically(
    dest: &Path,
    write: impl FnOnce(&mut File) -> Result<(), WheelError>,
) -> Result<(), WheelError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let (_lock, mut tmp) = staging_file(dir)?;
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    perm::set_mode(tmp.path(), false)?;
    tmp.persist(dest).map_err(|e| WheelError::Persist {
        path: dest.to_owned(),
        source: e.error,
    })?;
    Ok(())
}

/// Every regular file under `root` (links followed), unsorted.
fn tree_files(root: &Path) -> Result<Vec<FileEntry>, WheelError> {
    let mut files = Vec::new();
    for entry in WalkDir::new(root).follow_links(true) {
        let entry = entry?;
        if !entry.file_type().is_file() {
            continue;
        }
        let meta = entry.metadata()?;
        files.push(FileEntry {
            name: archive_path(root, entry.path())?,
            path: entry.into_path(),
            executable: perm::is_executable(&meta),
            large: meta.len() >= u64::from(u32::MAX),
        });
    }
    Ok(files)
}

/// An entry's options: deflate at `level` (1–9, `None` for 6), or stored for level 0.
fn options(time: DateTime, executable: bool, large: bool, level: Option<u8>) -> SimpleFileOptions {
    let method = match level {
        Some(0) => CompressionMethod::Stored,
        _ => CompressionMethod::Deflated,
    };
    SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(level.filter(|&level| level > 0).map(i64::from))
        .last_modified_time(time)
        .unix_permissions(perm::mode_for(executable))
        .large_file(large)
}

/// Converts a Unix time to a zip timestamp (UTC), clamped to the range zip can store.
fn zip_time(epoch: u64) -> DateTime {
    let secs = epoch.clamp(ZIP_MIN_EPOCH, ZIP_MAX_EPOCH);
    let (year, month, day) = civil_from_days(secs / SECONDS_PER_DAY);
    let time = secs % SECONDS_PER_DAY;
    let (hour, minute, second) = (time / 3600, time % 3600 / 60, time % 60);
    // In range by the clamp above, so the default (1980-01-01) is never used.
    DateTime::from_date_and_time(year, month, day, hour as u8, minute as u8, second as u8)
        .unwrap_or_default()
}

/// Days since 1970-01-01 to a (year, month, day) date; Howard Hinnant's algorithm.
fn civil_from_days(days: u64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year as u16, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::testutil::{build_wheel, side_module, target};
    use crate::wheel::{unpack, verify};
    use pretty_assertions::assert_eq;
    use zip::ZipArchive;

    const EPOCH: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z

    /// Builds, unpacks and repairs a small platform wheel under `tmp`.
    fn repaired_tree(tmp: &Path) -> UnpackedWheel {
        let so = side_module();
        let files: &[(&str, &[u8])] = &[
            ("pkg/__init__.py", b"print('hi')\n"),
            ("pkg/_m.cpython-313-x86_64-linux-gnu.so", &so),
            ("pkg-1.0.data/scripts/run", b"#!/bin/sh\n"),
            ("pkg-1.0.dist-info/RECORD", b"stale"),
            ("pkg-1.0.dist-info/RECORD.jws", b"stale"),
            ("a_first.py", b""),
        ];
        let wheel = build_wheel(tmp, "pkg-1.0-cp313-cp313-linux_x86_64.whl", files);
        let mut unpacked = unpack(&wheel, &tmp.join("tree")).unwrap();
        unpacked.repair(&target()).unwrap();
        unpacked
    }

    fn archive(path: &Path) -> ZipArchive<fs_err::File> {
        ZipArchive::new(fs_err::File::open(path).unwrap()).unwrap()
    }

    #[test]
    fn writes_sorted_entries_with_record_last() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("dist");
        fs_err::create_dir(&out).unwrap();
        // What a writer killed mid-write leaves; the next writer removes it.
        fs_err::write(
            out.join(format!("{}killed", crate::fsutil::PARTIAL_PREFIX)),
            b"PK",
        )
        .unwrap();
        let path = repaired_tree(tmp.path()).write(&out, EPOCH).unwrap();
        let names: Vec<String> = archive(&path).file_names().map(str::to_owned).collect();
        assert_eq!(
            names,
            [
                "a_first.py",
                "pkg-1.0.data/scripts/run",
                "pkg/__init__.py",
                "pkg/_m.cpython-313-wasm32-emscripten.so",
                "pkg-1.0.dist-info/METADATA",
                "pkg-1.0.dist-info/WHEEL",
                "pkg-1.0.dist-info/RECORD",
            ]
        );
        let leftovers = fs_err::read_dir(&out).unwrap().count();
        assert_eq!(
            leftovers, 1,
            "only the wheel is left in the output directory"
        );
        assert_eq!(
            path.file_name().unwrap(),
            "pkg-1.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"
        );
        verify(&path).unwrap();
    }

    #[test]
    fn regenerates_record() {
        let tmp = tempfile::tempdir().unwrap();
        let path = repaired_tree(tmp.path()).write(tmp.path(), EPOCH).unwrap();
        let mut zip = archive(&path);
        let mut record = String::new();
        io::Read::read_to_string(
            &mut zip.by_name("pkg-1.0.dist-info/RECORD").unwrap(),
            &mut record,
        )
        .unwrap();
        let lines: Vec<&str> = record.lines().collect();
        assert_eq!(lines.len(), 7);
        // sha256 of b"" in urlsafe base64 without padding.
        let empty = "a_first.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0";
        assert_eq!(lines[0], empty);
        assert_eq!(lines[6], "pkg-1.0.dist-info/RECORD,,");
    }

    #[test]
    fn fixes_times_and_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let path = repaired_tree(tmp.path()).write(tmp.path(), EPOCH).unwrap();
        let mut zip = archive(&path);
        for index in 0..zip.len() {
            let entry = zip.by_index(index).unwrap();
            let when = date_parts(entry.last_modified().unwrap());
            assert_eq!(when, (2023, 11, 14, 22, 13, 20));
            let exec = entry.name().ends_with("/run");
            let want = if exec { 0o755 } else { 0o644 };
            assert_eq!(entry.unix_mode().unwrap() & 0o777, want, "{}", entry.name());
            assert_eq!(entry.compression(), CompressionMethod::Deflated);
        }
    }

    fn date_parts(t: DateTime) -> (u16, u8, u8, u8, u8, u8) {
        (
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        )
    }

    #[test]
    fn clamps_times_to_the_zip_range() {
        let parts = date_parts;
        assert_eq!(parts(zip_time(0)), (1980, 1, 1, 0, 0, 0));
        assert_eq!(parts(zip_time(u64::MAX)), (2107, 12, 31, 23, 59, 58));
        assert_eq!(parts(zip_time(951_827_696)), (2000, 2, 29, 12, 34, 56));
    }

    #[test]
    fn plain_zips_are_sorted_and_reproducible() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("tree");
        fs_err::create_dir_all(root.join("pkg/tests")).unwrap();
        fs_err::write(root.join("pkg/tests/test_b.py"), "b").unwrap();
        fs_err::write(root.join("pkg/a.py"), "a").unwrap();
        let (first, second) = (tmp.path().join("one.zip"), tmp.path().join("two.zip"));
        write_zip_tree(&root, &first, EPOCH).unwrap();
        write_zip_tree(&root, &second, EPOCH).unwrap();
        let names: Vec<String> = archive(&first).file_names().map(str::to_owned).collect();
        assert_eq!(names, ["pkg/a.py", "pkg/tests/test_b.py"]);
        assert!(fs_err::read(&first).unwrap() == fs_err::read(&second).unwrap());
    }

    #[test]
    fn same_inputs_give_identical_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let unpacked = repaired_tree(tmp.path());
        let first = fs_err::read(unpacked.write(&tmp.path().join("a"), EPOCH).unwrap()).unwrap();
        let second = fs_err::read(unpacked.write(&tmp.path().join("b"), EPOCH).unwrap()).unwrap();
        assert!(first == second, "two writes of the same tree differ");
        let other =
            fs_err::read(unpacked.write(&tmp.path().join("c"), EPOCH + 2).unwrap()).unwrap();
        assert!(first != other, "the epoch must reach the archive");
    }
}
