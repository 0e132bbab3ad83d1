//! sha256 of files and streams, hex-encoded.

use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// The hex sha256 of a file's bytes.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = fs_err::File::open(path)?;
    sha256_reader(&mut file)
}

/// The hex sha256 of everything a reader yields.
pub fn sha256_reader(reader: &mut impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The hex sha256 of some bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut reader: &[u8] = b"abc";
        assert_eq!(sha256_reader(&mut reader).unwrap(), sha256_bytes(b"abc"));
    }
}
