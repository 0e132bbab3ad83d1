//! Where a symbolic link leads, found by the system rather than by the archive module's own
//! rule: the oracle that the unit tests and the fuzz targets (which include this file) check
//! every link an unpacking made against.

use std::path::{Component, Path, PathBuf};

/// Where the link at `link` leads: where the system resolves it or, when it resolves to
/// nothing (its target is missing), where its text points from its directory.
pub(crate) fn leads_to(link: &Path) -> PathBuf {
    fs_err::canonicalize(link).unwrap_or_else(|_| {
        let mut at = fs_err::canonicalize(link.parent().expect("a link has a parent")).unwrap();
        for part in fs_err::read_link(link).unwrap().components() {
            match part {
                Component::RootDir => at = PathBuf::from("/"),
                Component::ParentDir => {
                    at.pop();
                }
                Component::Normal(name) => at.push(name),
                Component::CurDir | Component::Prefix(_) => {}
            }
        }
        at
    })
}
