//! Verifying a finished wheel: every entry must match its `RECORD` hash and size
//! ([PEP 427](https://peps.python.org/pep-0427/#the-dist-info-directory)).

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use zip::ZipArchive;

use super::record::{parse_record, HashingWriter, RecordEntry};
use super::unpack::{open_archive, wheel_file_name, zip_error};
use super::{WheelError, WheelName};

/// What [`verify`] found in a consistent wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelSummary {
    /// The name and tags parsed from the file name.
    pub name: WheelName,
    /// Every file entry, in archive order (`RECORD` included).
    pub files: Vec<String>,
    /// Lowercase hex SHA-256 of the whole wheel file.
    pub sha256: String,
}

impl WheelSummary {
    /// The importable top-level names: packages (directories) and modules
    /// (`.py`, `.pyc`, `.so`) at the root of the wheel, outside `.dist-info` and `.data`.
    pub fn top_level_modules(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .files
            .iter()
            .filter_map(|file| match file.split_once('/') {
                Some((dir, _)) => Some(dir),
                None if [".py", ".pyc", ".so"].iter().any(|ext| file.ends_with(ext)) => {
                    file.split('.').next()
                }
                None => None,
            })
            .filter(|name| !name.ends_with(".dist-info") && !name.ends_with(".data"))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Opens `wheel` and checks that every entry matches its `RECORD` line and that `RECORD`
/// lists nothing that is missing; `RECORD` itself and its signatures are exempt.
pub fn verify(wheel: &Path) -> Result<WheelSummary, WheelError> {
    let name = wheel_file_name(wheel)?.parse()?;
    let sha256 = file_sha256(wheel)?;
    let mut archive = open_archive(wheel)?;
    let record_path = find_record(&archive, wheel)?;
    let mut record = read_record(&mut archive, wheel, &record_path)?;
    let exempt = [".jws", ".p7s", ""].map(|ext| format!("{record_path}{ext}"));
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(zip_error(wheel))?;
        if entry.is_dir() {
            continue;
        }
        let entry_name = entry.name().to_owned();
        if !exempt.contains(&entry_name) {
            let actual = hash_entry(entry, &entry_name).map_err(|e| zip_error(wheel)(e.into()))?;
            check_entry(wheel, record.remove(&entry_name), actual)?;
        }
        files.push(entry_name);
    }
    match record.into_keys().find(|path| !exempt.contains(path)) {
        Some(entry) => Err(mismatch(
            wheel,
            entry,
            "listed in RECORD but missing from the wheel",
        )),
        None => Ok(WheelSummary {
            name,
            files,
            sha256,
        }),
    }
}

fn file_sha256(path: &Path) -> Result<String, WheelError> {
    let mut hashing = HashingWriter::new(io::sink());
    io::copy(&mut fs_err::File::open(path)?, &mut hashing)?;
    Ok(format!("{:x}", hashing.finish().0))
}

/// The archive path of the single `*.dist-info/RECORD` at the top level.
fn find_record<R: Read + io::Seek>(
    archive: &ZipArchive<R>,
    wheel: &Path,
) -> Result<String, WheelError> {
    let is_record = |n: &&str| {
        n.split_once('/')
            .is_some_and(|(dir, file)| dir.ends_with(".dist-info") && file == "RECORD")
    };
    let found: Vec<&str> = archive.file_names().filter(is_record).collect();
    match found.as_slice() {
        [one] => Ok((*one).to_owned()),
        _ => Err(WheelError::DistInfo {
            wheel: wheel.to_owned(),
            found: found.len(),
        }),
    }
}

fn read_record<R: Read + io::Seek>(
    archive: &mut ZipArchive<R>,
    wheel: &Path,
    record_path: &str,
) -> Result<BTreeMap<String, RecordEntry>, WheelError> {
    let mut text = String::new();
    let mut file = archive.by_name(record_path).map_err(zip_error(wheel))?;
    let invalid = |reason: String| WheelError::Metadata {
        path: wheel.join(record_path),
        reason,
    };
    file.read_to_string(&mut text)
        .map_err(|e| invalid(format!("unreadable: {e}")))?;
    let entries = parse_record(&text).map_err(invalid)?;
    Ok(entries.into_iter().map(|e| (e.path.clone(), e)).collect())
}

fn hash_entry(mut entry: impl Read, name: &str) -> io::Result<RecordEntry> {
    let mut hashing = HashingWriter::new(io::sink());
    io::copy(&mut entry, &mut hashing)?;
    Ok(hashing.into_entry(name))
}

/// Compares an entry's actual hash and size with its `RECORD` line.
fn check_entry(
    wheel: &Path,
    expected: Option<RecordEntry>,
    actual: RecordEntry,
) -> Result<(), WheelError> {
    let Some(expected) = expected else {
        return Err(mismatch(wheel, actual.path, "not listed in RECORD"));
    };
    let show = |hash: &Option<String>| hash.clone().unwrap_or_else(|| "no hash".into());
    if expected.hash != actual.hash {
        let (want, got) = (show(&expected.hash), show(&actual.hash));
        let reason = format!("RECORD says `{want}` but the content hashes to `{got}`");
        return Err(mismatch(wheel, actual.path, &reason));
    }
    if expected.size != actual.size {
        let reason = format!(
            "RECORD says size {:?}, found {:?}",
            expected.size, actual.size
        );
        return Err(mismatch(wheel, actual.path, &reason));
    }
    Ok(())
}

fn mismatch(wheel: &Path, entry: String, reason: &str) -> WheelError {
    WheelError::RecordMismatch {
        wheel: wheel.to_owned(),
        entry,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::testutil::{build_wheel, target, zip_file};
    use crate::wheel::unpack;
    use std::path::PathBuf;

    /// A pure wheel written by [`crate::wheel::UnpackedWheel::write`], so its RECORD is right.
    fn good_wheel(tmp: &Path) -> PathBuf {
        let files: &[(&str, &[u8])] = &[("pkg/a.py", b"a = 1\n"), ("pkg/b.py", b"b = 2\n")];
        let built = build_wheel(tmp, "pkg-1.0-py3-none-any.whl", files);
        // Unpacking never overwrites: each call starts from an empty tree.
        let _ = fs_err::remove_dir_all(tmp.join("tree"));
        let mut unpacked = unpack(&built, &tmp.join("tree")).unwrap();
        unpacked.repair(&target()).unwrap();
        unpacked.write(&tmp.join("dist"), 0).unwrap()
    }

    /// Rewrites `wheel` in place, passing every entry through `edit` (`None` drops it).
    fn rewrite(wheel: &Path, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) {
        let mut archive = open_archive(wheel).unwrap();
        let mut entries = Vec::new();
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            if let Some(data) = edit(entry.name(), data) {
                entries.push((entry.name().to_owned(), data));
            }
        }
        let entries: Vec<(&str, &[u8], u32)> = entries
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice(), 0o644))
            .collect();
        zip_file(wheel, &entries);
    }

    #[test]
    fn summarizes_a_good_wheel() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = good_wheel(tmp.path());
        let summary = verify(&wheel).unwrap();
        assert_eq!(summary.name.to_string(), "pkg-1.0-py3-none-any.whl");
        assert_eq!(summary.files[..2], ["pkg/a.py", "pkg/b.py"]);
        assert_eq!(summary.files.last().unwrap(), "pkg-1.0.dist-info/RECORD");
        assert_eq!(summary.sha256.len(), 64);
    }

    #[test]
    fn catches_a_tampered_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = good_wheel(tmp.path());
        rewrite(&wheel, |name, data| {
            Some(if name == "pkg/b.py" {
                b"b = 3\n".to_vec()
            } else {
                data
            })
        });
        let err = verify(&wheel).unwrap_err().to_string();
        assert!(err.contains("does not match entry `pkg/b.py`"), "{err}");
        assert!(err.contains("hashes to `sha256="), "{err}");
    }

    #[test]
    fn catches_missing_and_unlisted_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = good_wheel(tmp.path());
        rewrite(&wheel, |name, data| (name != "pkg/a.py").then_some(data));
        let err = verify(&wheel).unwrap_err().to_string();
        assert!(
            err.contains("`pkg/a.py`: listed in RECORD but missing"),
            "{err}"
        );

        let wheel = good_wheel(tmp.path());
        rewrite(&wheel, |name, data| {
            let record = name.ends_with("RECORD");
            Some(if record {
                b"pkg/b.py,,\n".to_vec()
            } else {
                data
            })
        });
        let err = verify(&wheel).unwrap_err().to_string();
        assert!(err.contains("`pkg/a.py`: not listed in RECORD"), "{err}");
    }
}
