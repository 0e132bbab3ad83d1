//! The invariant both archive targets check after unpacking fuzzed bytes.

use emwheel::archive::{check_links, unpack_with, Limits};

#[path = "../../src/archive/oracle.rs"]
mod oracle;

/// Small limits, so that a bomb is refused fast.
const LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_entries: 1000,
};

/// Unpacks `data` saved as `file_name` into `dest/` of a scratch root, then checks that the
/// root holds only the archive and `dest/`, that `dest/` holds only directories, files and
/// links, and that every link leads inside `dest/` and passes `check_links`.
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
    let inside = std::fs::canonicalize(&dest).unwrap();
    let mut stack = vec![dest.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                let leads = oracle::leads_to(&entry.path());
                assert!(
                    leads.starts_with(&inside),
                    "{:?} leads to {leads:?}",
                    entry.path()
                );
            } else if kind.is_dir() {
                stack.push(entry.path());
            } else {
                assert!(
                    kind.is_file(),
                    "{:?} is no directory, file or link",
                    entry.path()
                );
            }
        }
    }
    check_links(&archive, &dest, &dest).expect("a link unpacking made breaks the rule it applies");
}
