//! A wheel's core metadata (`.dist-info/METADATA`, [PEP 566](https://peps.python.org/pep-0566/))
//! and importable names, for lockfiles and package indexes.

use std::io::Read;
use std::path::Path;

use super::unpack::{open_archive, zip_error};
use super::{verify, WheelError};

/// What a lockfile or an index needs to know of a wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelMetadata {
    /// The project name as written in `Name:`.
    pub name: String,
    /// `Version:`.
    pub version: String,
    /// Every `Requires-Dist:` line.
    pub requires_dist: Vec<String>,
    /// `Requires-Python:`, if any.
    pub requires_python: Option<String>,
    /// `top_level.txt`'s names, or else the wheel's top-level packages and modules.
    pub imports: Vec<String>,
    /// The `METADATA` file's bytes (served beside the wheel, PEP 658).
    pub raw: Vec<u8>,
    /// sha256 of the whole wheel, hex.
    pub sha256: String,
}

/// Reads a wheel's metadata after checking every entry against its `RECORD`.
pub fn read_metadata(wheel: &Path) -> Result<WheelMetadata, WheelError> {
    let summary = verify(wheel)?;
    let dist_info = format!(
        "{}-{}.dist-info",
        summary.name.distribution, summary.name.version
    );
    let metadata_path = summary
        .files
        .iter()
        .find(|file| file.ends_with(".dist-info/METADATA"))
        .cloned()
        .unwrap_or(format!("{dist_info}/METADATA"));
    let raw = read_entry(wheel, &metadata_path)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let top_level_path = metadata_path.replace("/METADATA", "/top_level.txt");
    let imports = match summary.files.contains(&top_level_path) {
        true => lines(&read_entry(wheel, &top_level_path)?),
        false => summary.top_level_modules(),
    };
    let field = |name: &str| headers(&text, name).into_iter().next();
    let missing = |name: &str| WheelError::Metadata {
        path: wheel.join(&metadata_path),
        reason: format!("no `{name}:` field"),
    };
    Ok(WheelMetadata {
        name: field("Name").ok_or_else(|| missing("Name"))?,
        version: field("Version").ok_or_else(|| missing("Version"))?,
        requires_dist: headers(&text, "Requires-Dist"),
        requires_python: field("Requires-Python"),
        imports,
        raw,
        sha256: summary.sha256,
    })
}

fn read_entry(wheel: &Path, name: &str) -> Result<Vec<u8>, WheelError> {
    let mut archive = open_archive(wheel)?;
    let mut entry = archive.by_name(name).map_err(zip_error(wheel))?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The values of every `name:` header before the body (the first blank line).
fn headers(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim().to_string())
        .collect()
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = "Metadata-Version: 2.1\nName: MarkupSafe\nVersion: 2.1.5\n\
Requires-Python: >=3.7\nRequires-Dist: six>=1.0\nRequires-Dist: pytest; extra == \"test\"\n\n\
Requires-Dist: not-a-header-in-the-body\n";

    #[test]
    fn reads_headers_until_the_body() {
        assert_eq!(headers(METADATA, "Name"), ["MarkupSafe"]);
        assert_eq!(
            headers(METADATA, "requires-dist"),
            ["six>=1.0", "pytest; extra == \"test\""]
        );
        assert!(headers(METADATA, "Summary").is_empty());
    }
}
