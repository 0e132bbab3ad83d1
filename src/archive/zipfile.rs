//! Zip archives (and wheels), entry by entry through the [`Extraction`] checks, after a scan
//! of the central directory for names stored twice (the zip crate would keep only the last).

use std::collections::HashSet;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::guard::{self, Extraction, Kind};
use super::ArchiveError;

/// The signature that starts each central directory header.
const CENTRAL_HEADER: [u8; 4] = *b"PK\x01\x02";

/// Unpacks the zip archive in `file`.
pub(super) fn unpack(file: fs_err::File, mut extraction: Extraction) -> Result<(), ArchiveError> {
    let scan = file.file().try_clone()?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| extraction.malformed(e.into()))?;
    let listed =
        scan_names(scan, zip.central_directory_start()).map_err(|e| extraction.malformed(e))?;
    if let Some(name) = listed.duplicate {
        return Err(extraction.refuse(&name, "an earlier entry has the same name"));
    }
    if listed.count != zip.len() as u64 {
        let reason = format!(
            "the central directory lists {} entries but only {} distinct names",
            listed.count,
            zip.len()
        );
        return Err(extraction.refuse(b"(central directory)", reason));
    }
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| extraction.malformed(e.into()))?;
        let name = entry.name().as_bytes().to_vec();
        let mut kind =
            kind(entry.is_dir(), entry.unix_mode()).map_err(|r| extraction.refuse(&name, r))?;
        if let Kind::Symlink(target) = &mut kind {
            // A zip holds a link's target as its content; one byte past the longest target
            // allowed is enough to refuse it.
            (&mut entry)
                .take(guard::MAX_NAME_BYTES as u64 + 1)
                .read_to_end(target)
                .map_err(|e| extraction.malformed(e))?;
        }
        let declared = entry.size();
        extraction.extract(&name, kind, &mut entry, declared)?;
    }
    Ok(())
}

/// What a zip entry unpacks to, from its name and the Unix mode in its attributes. A
/// symbolic link's target is left empty: it is the entry's content, which the caller reads.
fn kind(is_dir: bool, mode: Option<u32>) -> Result<Kind, &'static str> {
    let mode = mode.unwrap_or(0o644);
    match mode & 0o170_000 {
        0o040_000 => Ok(Kind::Dir),
        _ if is_dir => Ok(Kind::Dir),
        0 | 0o100_000 => Ok(Kind::File {
            executable: mode & 0o111 != 0,
        }),
        0o120_000 => Ok(Kind::Symlink(Vec::new())),
        0o020_000 | 0o060_000 => Err("it is a device file"),
        0o010_000 => Err("it is a named pipe"),
        _ => Err("it is a socket or of an unknown file type"),
    }
}

/// What the central directory holds: how many headers, and the first name seen twice.
struct Listed {
    count: u64,
    duplicate: Option<Vec<u8>>,
}

/// Walks the central directory headers from `start`, comparing their raw names.
fn scan_names(reader: impl Read + Seek, start: u64) -> io::Result<Listed> {
    let mut reader = BufReader::new(reader);
    reader.seek(SeekFrom::Start(start))?;
    let mut seen = HashSet::new();
    let mut count = 0;
    let mut header = [0u8; 46];
    while reader.read_exact(&mut header).is_ok() {
        if header[..4] != CENTRAL_HEADER {
            break;
        }
        let field = |at: usize| u64::from(u16::from_le_bytes([header[at], header[at + 1]]));
        let mut name = vec![0u8; field(28) as usize];
        reader.read_exact(&mut name)?;
        io::copy(
            &mut (&mut reader).take(field(30) + field(32)),
            &mut io::sink(),
        )?;
        count += 1;
        if !seen.insert(name.clone()) {
            return Ok(Listed {
                count,
                duplicate: Some(name),
            });
        }
    }
    Ok(Listed {
        count,
        duplicate: None,
    })
}
