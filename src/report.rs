//! Sizes of built wheels: what every page load that installs them pays for.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::wheel::WheelError;

/// How many of a wheel's largest files a report lists.
pub const LARGEST_FILES: usize = 5;

/// One wheel's sizes.
#[derive(Debug, Clone, Serialize)]
pub struct WheelSize {
    /// The wheel.
    pub wheel: PathBuf,
    /// Bytes on disk (what is downloaded).
    pub compressed: u64,
    /// Bytes once unpacked (what is written into the browser's memory file system).
    pub unpacked: u64,
    /// Number of files.
    pub files: usize,
    /// The largest files, `(path inside the wheel, unpacked bytes)`, largest first.
    pub largest: Vec<(String, u64)>,
}

/// Measures one wheel.
pub fn measure(wheel: &Path) -> Result<WheelSize, WheelError> {
    let file = fs_err::File::open(wheel)?;
    let compressed = file.metadata()?.len();
    let zip_error = |source| WheelError::Zip {
        wheel: wheel.to_path_buf(),
        source,
    };
    let mut zip = zip::ZipArchive::new(file).map_err(zip_error)?;
    let mut sizes: Vec<(String, u64)> = Vec::new();
    for index in 0..zip.len() {
        let entry = zip.by_index(index).map_err(zip_error)?;
        if entry.is_file() {
            sizes.push((entry.name().to_string(), entry.size()));
        }
    }
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(WheelSize {
        wheel: wheel.to_path_buf(),
        compressed,
        unpacked: sizes.iter().map(|(_, size)| size).sum(),
        files: sizes.len(),
        largest: sizes.into_iter().take(LARGEST_FILES).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn measures_sizes_and_largest_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-1-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
        for (name, size) in [("a.py", 10), ("b.so", 1000), ("c.txt", 100)] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(&vec![b'x'; size]).unwrap();
        }
        zip.finish().unwrap();
        let size = measure(&path).unwrap();
        assert_eq!(size.unpacked, 1110);
        assert_eq!(size.files, 3);
        assert_eq!(size.largest[0], ("b.so".to_string(), 1000));
        assert!(size.compressed < 1110);
    }
}
