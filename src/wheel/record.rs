//! The `RECORD` file: hashing, formatting and parsing
//! ([PEP 376](https://peps.python.org/pep-0376/#record),
//! [PEP 427](https://peps.python.org/pep-0427/#the-dist-info-directory)).

use std::io::{self, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// One line of `RECORD`: a path with its hash and size (both absent for `RECORD` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// Archive path, `/`-separated.
    pub path: String,
    /// `sha256=<urlsafe base64, no padding>`, or `None` for `RECORD`.
    pub hash: Option<String>,
    /// Size in bytes, or `None` for `RECORD`.
    pub size: Option<u64>,
}

/// Formats a SHA-256 digest the way `RECORD` stores it.
fn record_hash(digest: &[u8]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(digest))
}

/// Renders `RECORD`: one CSV line per entry, then the unhashed line for `record_path`.
pub fn format_record(entries: &[RecordEntry], record_path: &str) -> String {
    let own = RecordEntry {
        path: record_path.to_owned(),
        hash: None,
        size: None,
    };
    let mut out = String::new();
    for entry in entries.iter().chain([&own]) {
        let hash = entry.hash.as_deref().unwrap_or("");
        let size = entry.size.map(|s| s.to_string()).unwrap_or_default();
        out.push_str(&format!("{},{hash},{size}\n", csv_field(&entry.path)));
    }
    out
}

/// Quotes a CSV field when it contains a comma, quote or line break.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// Parses `RECORD`; the error names the 1-based line and what is wrong with it.
pub fn parse_record(text: &str) -> Result<Vec<RecordEntry>, String> {
    let lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    lines
        .map(|(i, line)| parse_line(line).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

fn parse_line(line: &str) -> Result<RecordEntry, String> {
    let fields = split_csv(line)?;
    let [path, hash, size] = <[String; 3]>::try_from(fields)
        .map_err(|f| format!("expected 3 fields, found {}", f.len()))?;
    let size = match size.as_str() {
        "" => None,
        s => Some(s.parse().map_err(|_| format!("bad size `{s}`"))?),
    };
    let hash = Some(hash).filter(|h| !h.is_empty());
    Ok(RecordEntry { path, hash, size })
}

/// Splits one CSV line, honouring `"`-quoted fields with `""` escapes.
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => field.push(chars.next().unwrap_or('"')),
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(field);
    Ok(fields)
}

/// A writer that forwards to `inner` while computing the SHA-256 and size of what passed.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Finishes hashing and returns the SHA-256 digest and the byte count.
    pub fn finish(self) -> (sha2::digest::Output<Sha256>, u64) {
        (self.hasher.finalize(), self.size)
    }

    /// Finishes hashing and returns the `RECORD` line for `path`.
    pub fn into_entry(self, path: &str) -> RecordEntry {
        let (digest, size) = self.finish();
        RecordEntry {
            path: path.to_owned(),
            hash: Some(record_hash(&digest)),
            size: Some(size),
        }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn hashed(path: &str, data: &[u8]) -> RecordEntry {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(data).unwrap();
        w.into_entry(path)
    }

    #[test]
    fn hashes_like_pip() {
        // `python -c "import hashlib,base64; print(base64.urlsafe_b64encode(
        //   hashlib.sha256(b'hello').digest()).rstrip(b'='))"`
        let e = hashed("a.py", b"hello");
        let want = "sha256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ";
        assert_eq!(e.hash.as_deref(), Some(want));
        assert_eq!(e.size, Some(5));
    }

    #[test]
    fn formats_and_parses_round_trip() {
        let entries = vec![hashed("pkg/a,b.py", b"x"), hashed("pkg/\"q\".py", b"")];
        let text = format_record(&entries, "pkg-1.0.dist-info/RECORD");
        assert!(text.starts_with("\"pkg/a,b.py\",sha256="));
        assert!(text.ends_with("\npkg-1.0.dist-info/RECORD,,\n"));
        let parsed = parse_record(&text).unwrap();
        assert_eq!(parsed[..2], entries[..]);
        assert_eq!(parsed[2].hash, None);
    }

    #[test]
    fn reports_bad_lines() {
        assert!(parse_record("a,b\n").unwrap_err().contains("line 1"));
        assert!(parse_record("a,,x\n").unwrap_err().contains("bad size"));
        assert!(parse_record("\"a,,\n")
            .unwrap_err()
            .contains("unterminated"));
    }
}
