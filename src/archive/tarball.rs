//! Tar archives (plain or gzip-compressed), entry by entry through the [`Extraction`] checks.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use super::guard::{Extraction, Kind};
use super::{ArchiveError, Limits};

/// Header bytes allowed per entry on top of the content limit: a header, a long-name or
/// PAX record, and padding.
const OVERHEAD_PER_ENTRY: u64 = 1536;

/// Unpacks the tar stream `reader`.
pub(super) fn unpack(reader: impl Read, mut extraction: Extraction) -> Result<(), ArchiveError> {
    let capped = Capped::new(reader, extraction.limits());
    let tripped = capped.tripped.clone();
    let mut tar = tar::Archive::new(capped);
    let entries = tar.entries().map_err(|e| extraction.malformed(e))?;
    // A header too large to read has no name yet: the refusal names the entry before it.
    let mut next = b"(the first entry)".to_vec();
    for entry in entries {
        let mut entry = entry.map_err(|error| {
            if tripped.get() {
                extraction.refuse(&next, extraction.too_large())
            } else {
                extraction.malformed(error)
            }
        })?;
        let name = entry.path_bytes().into_owned();
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644);
        let link = entry.link_name_bytes().unwrap_or_default().into_owned();
        let kind =
            kind(header.entry_type(), mode, link).map_err(|r| extraction.refuse(&name, r))?;
        let Some(kind) = kind else { continue };
        let declared = entry.size();
        extraction.extract(&name, kind, &mut entry, declared)?;
        next = [b"(the entry after `", &name[..], b"`)"].concat();
    }
    Ok(())
}

/// What a tar entry with link target `link` unpacks to: a kind, nothing (a global PAX
/// header), or a refusal.
fn kind(kind: tar::EntryType, mode: u32, link: Vec<u8>) -> Result<Option<Kind>, String> {
    use tar::EntryType;
    match kind {
        EntryType::Regular | EntryType::Continuous => Ok(Some(Kind::File {
            executable: mode & 0o111 != 0,
        })),
        EntryType::Directory => Ok(Some(Kind::Dir)),
        EntryType::XGlobalHeader => Ok(None),
        EntryType::Symlink => Ok(Some(Kind::Symlink(link))),
        EntryType::Link => Ok(Some(Kind::HardLink(link))),
        EntryType::Char | EntryType::Block => Err("it is a device file".into()),
        EntryType::Fifo => Err("it is a named pipe".into()),
        other => Err(format!(
            "it is of a kind emwheel does not unpack (tar type `{}`)",
            char::from(other.as_byte()).escape_default()
        )),
    }
}

/// The decompressed tar stream, cut off past the content limit plus header overhead, so that
/// a gzip bomb of headers (a huge GNU long name, which the tar crate reads into memory) stops.
struct Capped<R> {
    inner: R,
    left: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R> Capped<R> {
    fn new(inner: R, limits: &Limits) -> Self {
        let overhead = limits.max_entries.saturating_mul(OVERHEAD_PER_ENTRY);
        Capped {
            inner,
            left: limits.max_bytes.saturating_add(overhead),
            tripped: Rc::new(Cell::new(false)),
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 && !buf.is_empty() {
            // At the cap: only the end of the stream may follow.
            if self.inner.read(&mut [0u8])? == 0 {
                return Ok(0);
            }
            self.tripped.set(true);
            return Err(io::Error::other(
                "the archive is larger than the size limit",
            ));
        }
        let room = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..room])?;
        self.left -= read as u64;
        Ok(read)
    }
}
