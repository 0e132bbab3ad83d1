//! The invariant both archive targets check after unpacking fuzzed bytes.

use emwheel::archive::{unpack_with, Limits};

/// Small limits, so that a bomb is refused fast.
const LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_entries: 1000,
};

/// Unpacks `data` saved as `file_name` into `dest/` of a scratch root, then checks that the
/// root holds only the archive and `dest/`, and that `dest/` holds no link.
pub fn unpack_and_check(data: &[u8], file_name: &str) {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join(file_name);
    std::fs::write(&archive, data).unwrap();
    let dest = root.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    let _ = unpack_with(&archive, &dest, &LIMITS);
    let mut top: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    top.sort();
    assert_eq!(top, ["dest", file_name], "written beside the destination");
    let mut stack = vec![dest];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            assert!(
                kind.is_dir() || kind.is_file(),
                "{:?} is neither",
                entry.path()
            );
            if kind.is_dir() {
                stack.push(entry.path());
            }
        }
    }
}
