//! A corpus of hostile archives, generated here byte by byte: each must be refused naming its
//! entry, and nothing may appear outside the destination (a sibling directory stays empty)
//! nor any link lead there.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use super::*;

const MIB: usize = 1 << 20;

/// The limits the corpus runs under: 1 MiB and 50 entries, so bombs stay cheap.
const SMALL: Limits = Limits {
    max_bytes: MIB as u64,
    max_entries: 50,
};

/// A scratch root holding the archive, the destination `dest/` and an `outside/` sibling.
struct Scene {
    root: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        for dir in ["dest", "outside"] {
            fs_err::create_dir(root.path().join(dir)).unwrap();
        }
        Scene { root }
    }

    fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    fn dest(&self) -> PathBuf {
        self.root.path().join("dest")
    }

    /// Writes `bytes` as `file_name` and unpacks it into `dest/` within `limits`.
    fn unpack(&self, file_name: &str, bytes: &[u8], limits: &Limits) -> Result<(), ArchiveError> {
        let archive = self.root.path().join(file_name);
        fs_err::write(&archive, bytes).unwrap();
        unpack_with(&archive, &self.dest(), limits)
    }

    /// Asserts that nothing was written beside `dest/`, that `outside/` is still empty, and
    /// that every link in `dest/` leads inside it.
    fn assert_contained(&self, case: &str) {
        let mut names: Vec<String> = fs_err::read_dir(self.root.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "dest" && name != "outside")
            .collect();
        names.retain(|name| !name.starts_with("case."));
        assert!(names.is_empty(), "{case}: written beside dest: {names:?}");
        let outside: Vec<_> = fs_err::read_dir(self.outside()).unwrap().collect();
        assert!(outside.is_empty(), "{case}: written outside: {outside:?}");
        let dest = fs_err::canonicalize(self.dest()).unwrap();
        for entry in walkdir::WalkDir::new(self.dest()) {
            let entry = entry.unwrap();
            if entry.path_is_symlink() {
                let leads = oracle::leads_to(entry.path());
                assert!(
                    leads.starts_with(&dest),
                    "{case}: {entry:?} leads to {leads:?}"
                );
            }
        }
    }

    /// The links under `dest/`, relative to it, with their targets as made.
    fn links(&self) -> Vec<(String, String)> {
        let mut links: Vec<_> = walkdir::WalkDir::new(self.dest())
            .into_iter()
            .map(Result::unwrap)
            .filter(|entry| entry.path_is_symlink())
            .map(|entry| {
                let name = entry.path().strip_prefix(self.dest()).unwrap();
                let target = fs_err::read_link(entry.path()).unwrap();
                (name.display().to_string(), target.display().to_string())
            })
            .collect();
        links.sort();
        links
    }
}

// ---- tar ----

/// One raw tar member: name bytes as stored, type, data, link target.
struct Member<'a> {
    name: &'a [u8],
    kind: tar::EntryType,
    data: &'a [u8],
    link: &'a [u8],
    mode: u32,
}

fn member<'a>(name: &'a [u8], kind: tar::EntryType, data: &'a [u8]) -> Member<'a> {
    Member {
        name,
        kind,
        data,
        link: b"",
        mode: 0o644,
    }
}

fn link<'a>(name: &'a [u8], kind: tar::EntryType, target: &'a [u8]) -> Member<'a> {
    Member {
        link: target,
        ..member(name, kind, b"")
    }
}

/// A tar whose headers carry the names exactly as given, as a hostile tool would write them
/// (the tar crate's own setters refuse `..` and absolute paths).
fn tar(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for m in members {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(m.kind);
        header.set_size(m.data.len() as u64);
        header.set_mode(m.mode);
        let old = header.as_old_mut();
        old.name[..m.name.len()].copy_from_slice(m.name);
        old.linkname[..m.link.len()].copy_from_slice(m.link);
        header.set_cksum();
        builder.append(&header, m.data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A member preceded by an extension record (`L`: GNU long name, `x`: PAX) holding `payload`.
fn tar_extended(extension: tar::EntryType, payload: &[u8], data: &[u8]) -> Vec<u8> {
    tar(&[
        member(b"././@LongLink", extension, payload),
        member(b"short", tar::EntryType::Regular, data),
    ])
}

/// A tar without its end-of-archive marker, so that another can follow it.
fn without_end(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.truncate(bytes.len() - 1024);
    bytes
}

/// A PAX record `"<len> key=value\n"`, whose length counts itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body_len = key.len() + value.len() + 3;
    let mut len = body_len + 1;
    while (len.to_string().len() + body_len) != len {
        len += 1;
    }
    let mut record = format!("{len} {key}=").into_bytes();
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

// ---- zip ----

/// A zip of `(name, data)` files, deflated, mode 0o644.
fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
    for (name, data) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Offsets of every header with `signature` whose name (at `name_at`, length at `len_at`)
/// is `name`.
fn headers(
    bytes: &[u8],
    signature: &[u8; 4],
    len_at: usize,
    name_at: usize,
    name: &[u8],
) -> Vec<usize> {
    (0..bytes.len().saturating_sub(name_at))
        .filter(|&at| &bytes[at..at + 4] == signature)
        .filter(|&at| {
            let len = u16::from_le_bytes([bytes[at + len_at], bytes[at + len_at + 1]]) as usize;
            bytes.get(at + name_at..at + name_at + len) == Some(name)
        })
        .collect()
}

/// Rewrites the Unix mode (file type included) of `name` in the central directory.
fn set_zip_mode(bytes: &mut [u8], name: &str, mode: u32) {
    for at in headers(bytes, b"PK\x01\x02", 28, 46, name.as_bytes()) {
        bytes[at + 5] = 3; // made by Unix
        bytes[at + 38..at + 42].copy_from_slice(&(mode << 16).to_le_bytes());
    }
}

/// Makes `name` declare `size` uncompressed bytes in both its local and central headers.
fn set_zip_size(bytes: &mut [u8], name: &str, size: u32) {
    for at in headers(bytes, b"PK\x03\x04", 26, 30, name.as_bytes()) {
        bytes[at + 22..at + 26].copy_from_slice(&size.to_le_bytes());
    }
    for at in headers(bytes, b"PK\x01\x02", 28, 46, name.as_bytes()) {
        bytes[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
    }
}

/// Replaces every occurrence of `from` by `to` (same length) in the archive's bytes.
pub(crate) fn rename_in_place(bytes: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let hits: Vec<usize> = (0..=bytes.len() - from.len())
        .filter(|&at| &bytes[at..at + from.len()] == from.as_bytes())
        .collect();
    assert!(!hits.is_empty());
    for at in hits {
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    }
}

// ---- the corpus ----

/// One hostile archive: its file name, bytes, the entry the refusal must name, and a word
/// of the reason.
struct Case {
    file: &'static str,
    bytes: Vec<u8>,
    entry: String,
    reason: &'static str,
}

fn case(
    file: &'static str,
    bytes: Vec<u8>,
    entry: impl Into<String>,
    reason: &'static str,
) -> Case {
    Case {
        file,
        bytes,
        entry: entry.into(),
        reason,
    }
}

/// Every hostile archive, built for a scene whose `outside/` is the absolute target.
fn corpus(scene: &Scene) -> Vec<Case> {
    use tar::EntryType::{
        Block, Char, Directory, Fifo, GNULongName, Link, Regular, Symlink, XHeader,
    };
    let outside = scene.outside().display().to_string();
    let abs = format!("{outside}/evil");
    let zeros = vec![0u8; 2 * MIB];
    let mut cases = vec![
        case(
            "case.tar",
            tar(&[member(b"../outside/evil", Regular, b"x")]),
            "../outside/evil",
            "`..`",
        ),
        case(
            "case.tar.gz",
            gzip(&tar(&[member(b"pkg/../../outside/evil", Regular, b"x")])),
            "pkg/../../outside/evil",
            "`..`",
        ),
        case(
            "case.tar",
            tar(&[member(abs.as_bytes(), Regular, b"x")]),
            abs.clone(),
            "absolute",
        ),
        case(
            "case.tar",
            tar(&[
                link(b"pkg/link", Symlink, b"../../outside"),
                member(b"pkg/link/evil", Regular, b"x"),
            ]),
            "pkg/link",
            "symbolic link",
        ),
        case(
            "case.tgz",
            gzip(&tar(&[
                link(b"pkg/link", Symlink, outside.as_bytes()),
                member(b"pkg/link/evil", Regular, b"x"),
            ])),
            "pkg/link",
            "symbolic link",
        ),
        case(
            "case.tar",
            tar(&[link(b"pkg/hard", Link, abs.as_bytes())]),
            "pkg/hard",
            "hard link",
        ),
        case(
            "case.tar",
            tar(&[member(b"pkg/tty", Char, b"")]),
            "pkg/tty",
            "device",
        ),
        case(
            "case.tar",
            tar(&[member(b"pkg/disk", Block, b"")]),
            "pkg/disk",
            "device",
        ),
        case(
            "case.tar",
            tar(&[member(b"pkg/pipe", Fifo, b"")]),
            "pkg/pipe",
            "named pipe",
        ),
        case(
            "case.tar",
            tar(&[
                member(b"pkg/a", Regular, b"good"),
                member(b"pkg/./a", Regular, b"evil"),
            ]),
            "pkg/./a",
            "same path",
        ),
        case(
            "case.tar",
            tar(&[
                member(b"pkg/a", Regular, b""),
                member(b"pkg/a/b", Regular, b""),
            ]),
            "pkg/a/b",
            "made a file where its directory",
        ),
        case(
            "case.tar",
            tar(&[member(b"pkg", Directory, b""), member(b"pkg", Regular, b"")]),
            "pkg",
            "same path",
        ),
        case(
            "case.tar",
            tar(&[
                member(b"pkg/a/b", Regular, b""),
                member(b"pkg/a", Regular, b""),
            ]),
            "pkg/a",
            "same path",
        ),
        case(
            "case.tar.gz",
            gzip(&tar(&[member(b"pkg/zeros", Regular, &zeros)])),
            "pkg/zeros",
            "limit of 1048576 bytes",
        ),
        case(
            "case.tar",
            tar_extended(
                GNULongName,
                format!("pkg/{}", "n".repeat(300)).as_bytes(),
                b"",
            ),
            format!("pkg/{}", "n".repeat(196)) + "…",
            "longer than 255 bytes",
        ),
        case(
            "case.tar",
            tar_extended(XHeader, &pax_record("path", b"pkg/a\0b"), b""),
            "pkg/a\\0b",
            "NUL",
        ),
        case(
            "case.tar.gz",
            gzip(&tar_extended(GNULongName, &vec![b'a'; 4 * MIB], b"")),
            "(the first entry)",
            "limit of 1048576 bytes",
        ),
        case(
            "case.tar.gz",
            gzip(
                &[
                    without_end(tar(&[member(b"pkg/ok", Regular, b"")])),
                    tar_extended(GNULongName, &vec![b'a'; 4 * MIB], b""),
                ]
                .concat(),
            ),
            "(the entry after `pkg/ok`)",
            "limit of 1048576 bytes",
        ),
        case(
            "case.zip",
            zip(&[("../outside/evil", b"x")]),
            "../outside/evil",
            "`..`",
        ),
        case(
            "case.zip",
            zip(&[(abs.as_str(), b"x")]),
            abs.clone(),
            "absolute",
        ),
        case("case.zip", zip(&[("C:/evil", b"x")]), "C:/evil", "absolute"),
        case(
            "case.zip",
            zip(&[("..\\outside\\evil", b"x")]),
            "..\\outside\\evil",
            "backslash",
        ),
        case("case.zip", zip(&[("pkg/a\0b", b"x")]), "pkg/a\\0b", "NUL"),
        case(
            "case.zip",
            zip(&[(format!("pkg/{}", "d/".repeat(2100)).as_str(), b"x")]),
            format!("pkg/{}", "d/".repeat(98)) + "…",
            "longer than 4096 bytes",
        ),
        case(
            "case.zip",
            zip(&[("pkg/zeros", &zeros)]),
            "pkg/zeros",
            "limit of 1048576 bytes",
        ),
        case("case.zip", zip(&[(".", b"x")]), ".", "name is empty"),
    ];
    cases.extend(crafted_zips(&outside, &zeros));
    cases.extend(hostile_links(scene));
    cases.push(too_many_entries());
    cases.push(many_files_past_the_limit());
    cases
}

/// Zips the zip crate will not write, patched after the fact.
fn crafted_zips(outside: &str, zeros: &[u8]) -> Vec<Case> {
    let mut symlink = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    symlink.add_symlink("pkg/link", outside, options).unwrap();
    symlink.start_file("pkg/link/evil", options).unwrap();
    let symlink = symlink.finish().unwrap().into_inner();

    let mut device = zip(&[("pkg/tty", b"")]);
    set_zip_mode(&mut device, "pkg/tty", 0o020_644);
    let mut fifo = zip(&[("pkg/pipe", b"")]);
    set_zip_mode(&mut fifo, "pkg/pipe", 0o010_644);
    let mut lying = zip(&[("pkg/bomb", zeros)]);
    set_zip_size(&mut lying, "pkg/bomb", 10);
    let mut duplicate = zip(&[("pkg/a.py", b"good"), ("pkg/b.py", b"evil")]);
    rename_in_place(&mut duplicate, "pkg/b.py", "pkg/a.py");
    vec![
        case("case.zip", symlink, "pkg/link", "symbolic link"),
        case("case.zip", device, "pkg/tty", "device"),
        case("case.zip", fifo, "pkg/pipe", "named pipe"),
        case("case.zip", lying, "pkg/bomb", "more than its declared size"),
        case("case.zip", duplicate, "pkg/a.py", "same name"),
    ]
}

/// Links that lead outside, entries written through a link, and hard links to no earlier
/// file: each refused, naming the entry and the link's target.
fn hostile_links(scene: &Scene) -> Vec<Case> {
    use tar::EntryType::{Directory, Link, Regular, Symlink};
    let inside = format!("{}/pkg/a", scene.dest().display());
    let big = vec![1u8; 600 * 1024];
    let tar_cases = [
        (
            vec![link(b"a/b", Symlink, b"../../x")],
            "a/b",
            "to `../../x`, which leads outside",
        ),
        (
            vec![link(b"up", Symlink, b"..")],
            "up",
            "to `..`, which leads outside",
        ),
        (
            vec![link(b"pkg/l", Symlink, b"")],
            "pkg/l",
            "which is empty",
        ),
        (
            vec![link(b"pkg/l", Symlink, inside.as_bytes())],
            "pkg/l",
            "which is absolute",
        ),
        (
            vec![
                link(b"pkg/up", Symlink, b".."),
                link(b"pkg/out", Symlink, b"up/../outside/evil"),
            ],
            "pkg/out",
            "to `up/../outside/evil`, which has `..` after a name",
        ),
        (
            vec![
                link(b"pkg/l", Symlink, b"d/../../outside"),
                link(b"pkg/d", Symlink, b"."),
            ],
            "pkg/l",
            "`..` after a name",
        ),
        (
            vec![
                link(b"pkg/up", Symlink, b".."),
                link(b"pkg/up/up", Symlink, b".."),
                member(b"pkg/up/up/outside/evil", Regular, b"x"),
            ],
            "pkg/up/up",
            "passes through the symbolic link `pkg/up`",
        ),
        (
            vec![
                link(b"pkg/d", Symlink, b"sub"),
                member(b"pkg/d/evil", Regular, b"x"),
            ],
            "pkg/d/evil",
            "passes through the symbolic link `pkg/d`",
        ),
        (
            vec![link(b"a", Symlink, b"."), member(b"a/evil", Regular, b"x")],
            "a/evil",
            "passes through the symbolic link `a`",
        ),
        (
            vec![
                link(b"pkg/d", Symlink, b"sub"),
                member(b"pkg/d/", Directory, b""),
            ],
            "pkg/d/",
            "same path",
        ),
        (
            vec![
                link(b"pkg/a", Symlink, b"b"),
                member(b"pkg/a", Regular, b"x"),
            ],
            "pkg/a",
            "same path",
        ),
        (
            vec![
                member(b"pkg/a", Regular, b"x"),
                link(b"pkg/a", Symlink, b"b"),
            ],
            "pkg/a",
            "same path",
        ),
        (
            vec![
                link(b"pkg/hard", Link, b"pkg/later"),
                member(b"pkg/later", Regular, b"x"),
            ],
            "pkg/hard",
            "hard link to `pkg/later`, which is no file an earlier entry wrote",
        ),
        (
            vec![
                member(b"pkg/", Directory, b""),
                link(b"pkg/hard", Link, b"pkg"),
            ],
            "pkg/hard",
            "hard link to `pkg`",
        ),
        (
            vec![link(b"pkg/hard", Link, b"../outside/x")],
            "pkg/hard",
            "hard link to `../outside/x`",
        ),
        (
            vec![
                member(b"pkg/big", Regular, &big),
                link(b"pkg/copy", Link, b"pkg/big"),
            ],
            "pkg/copy",
            "limit of 1048576 bytes",
        ),
    ];
    let mut cases: Vec<Case> = tar_cases
        .into_iter()
        .map(|(members, entry, reason)| case("case.tar", tar(&members), entry, reason))
        .collect();
    cases.extend(hostile_zip_links());
    cases
}

/// Zip symbolic links: one leading outside, one written through, and one in a wheel.
fn hostile_zip_links() -> Vec<Case> {
    let options = zip::write::SimpleFileOptions::default();
    let zip_of = |links: &[(&str, &str)], files: &[&str]| {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, target) in links {
            writer.add_symlink(*name, *target, options).unwrap();
        }
        for name in files {
            writer.start_file(*name, options).unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    vec![
        case(
            "case.zip",
            zip_of(&[("pkg/l", "../../outside")], &[]),
            "pkg/l",
            "to `../../outside`, which leads outside",
        ),
        case(
            "case.zip",
            zip_of(&[("pkg/d", "sub")], &["pkg/d/evil"]),
            "pkg/d/evil",
            "passes through the symbolic link `pkg/d`",
        ),
        case(
            "case.whl",
            zip_of(&[("pkg/l", "a.py")], &["pkg/a.py"]),
            "pkg/l",
            "symbolic link, which a wheel cannot hold",
        ),
    ]
}

fn too_many_entries() -> Case {
    let names: Vec<String> = (0..60).map(|i| format!("pkg/{i}")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    case("case.zip", zip(&files), "pkg/50", "more than 50 entries")
}

fn many_files_past_the_limit() -> Case {
    let chunk = vec![7u8; 300 * 1024];
    let members: Vec<Member> = [b"pkg/1", b"pkg/2", b"pkg/3", b"pkg/4"]
        .iter()
        .map(|name| member(*name, tar::EntryType::Regular, &chunk))
        .collect();
    case(
        "case.tar.gz",
        gzip(&tar(&members)),
        "pkg/4",
        "limit of 1048576 bytes",
    )
}

#[test]
fn every_hostile_archive_is_refused_naming_its_entry() {
    let scene = Scene::new();
    let cases = corpus(&scene);
    assert_eq!(cases.len(), 52, "the corpus changed size");
    for (index, case) in cases.into_iter().enumerate() {
        fs_err::remove_dir_all(scene.dest()).unwrap();
        fs_err::create_dir(scene.dest()).unwrap();
        let label = format!("case {index} ({}, `{}`)", case.file, case.entry);
        match scene.unpack(case.file, &case.bytes, &SMALL) {
            Err(ArchiveError::Refused { entry, reason, .. }) => {
                assert_eq!(entry, case.entry, "{label}: {reason}");
                assert!(reason.contains(case.reason), "{label}: {reason}");
            }
            other => panic!("{label}: not refused: {other:?}"),
        }
        scene.assert_contained(&label);
    }
}

#[test]
fn refused_content_leaves_no_partial_file() {
    let scene = Scene::new();
    let mut lying = zip(&[("pkg/ok", b"fine"), ("pkg/bomb", &vec![0u8; 2 * MIB])]);
    set_zip_size(&mut lying, "pkg/bomb", 10);
    scene.unpack("case.zip", &lying, &SMALL).unwrap_err();
    assert!(scene.dest().join("pkg/ok").is_file());
    assert!(!scene.dest().join("pkg/bomb").exists());
}

#[test]
fn ordinary_archives_unpack_with_their_modes() {
    let scene = Scene::new();
    let mut script = member(b"pkg/run.sh", tar::EntryType::Regular, b"#!/bin/sh\n");
    script.mode = 0o755;
    let bytes = gzip(&tar(&[
        member(b"./", tar::EntryType::Directory, b""),
        member(b"pkg/", tar::EntryType::Directory, b""),
        member(b"pkg/", tar::EntryType::Directory, b""),
        member(b"pkg/setup.py", tar::EntryType::Regular, b"print(1)"),
        script,
    ]));
    scene.unpack("x.tar.gz", &bytes, &SMALL).unwrap();
    let dest = scene.dest();
    assert_eq!(
        fs_err::read_to_string(dest.join("pkg/setup.py")).unwrap(),
        "print(1)"
    );
    assert_eq!(mode(&dest.join("pkg/run.sh")), 0o755);
    assert_eq!(mode(&dest.join("pkg/setup.py")), 0o644);
    let scene = Scene::new();
    let bytes = zip(&[("pkg/a.py", b"a"), ("pkg/sub/b.py", &[1u8; 1000])]);
    scene.unpack("case.zip", &bytes, &SMALL).unwrap();
    assert_eq!(
        fs_err::read(scene.dest().join("pkg/sub/b.py")).unwrap(),
        [1u8; 1000]
    );
    scene.assert_contained("plain zip");
}

#[test]
fn an_archive_exactly_at_the_limit_unpacks() {
    let scene = Scene::new();
    let bytes = gzip(&tar(&[member(
        b"f",
        tar::EntryType::Regular,
        &vec![0u8; MIB],
    )]));
    scene.unpack("x.tar.gz", &bytes, &SMALL).unwrap();
    let scene = Scene::new();
    let bytes = zip(&[("f", &vec![0u8; MIB])]);
    scene.unpack("x.zip", &bytes, &SMALL).unwrap();
}

#[test]
fn damaged_and_unknown_archives_are_named() {
    let scene = Scene::new();
    let error = scene
        .unpack("x.zip", b"PK\x03\x04 not really", &SMALL)
        .unwrap_err();
    assert!(matches!(error, ArchiveError::Malformed { .. }), "{error:?}");
    let error = scene.unpack("x.rar", b"", &SMALL).unwrap_err();
    assert!(matches!(error, ArchiveError::UnknownFormat(_)));
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs_err::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn bzip2_tarballs_unpack() {
    let scene = Scene::new();
    let data = tar(&[member(
        b"xbuildenv/requirements.txt",
        tar::EntryType::Regular,
        b"cffi",
    )]);
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    encoder.write_all(&data).unwrap();
    scene
        .unpack("x.tar.bz2", &encoder.finish().unwrap(), &SMALL)
        .unwrap();
    let text = fs_err::read_to_string(scene.dest().join("xbuildenv/requirements.txt")).unwrap();
    assert_eq!(text, "cffi");
}

#[test]
fn links_inside_the_tree_are_made_whatever_their_order() {
    use tar::EntryType::{Link, Regular, Symlink};
    let scene = Scene::new();
    let bytes = gzip(&tar(&[
        // Before its target, through a link that comes later still.
        link(b"pkg/early.py", Symlink, b"dir/./b.py"),
        member(b"pkg/a.py", Regular, b"A"),
        link(b"pkg/sibling.py", Symlink, b"a.py"),
        link(b"pkg/chain.py", Symlink, b"sibling.py"),
        link(b"pkg/api/str/__init__.py", Symlink, b"../int/__init__.py"),
        member(b"pkg/api/int/__init__.py", Regular, b"I"),
        link(b"pkg/dir", Symlink, b"sub/"),
        member(b"pkg/sub/b.py", Regular, b"B"),
        link(b"pkg/to_sub.py", Symlink, b"sub/b.py"),
        link(b"pkg/here", Symlink, b"."),
        link(b"pkg/root", Symlink, b"../"),
        link(b"pkg/copy.py", Link, b"pkg/a.py"),
    ]));
    scene.unpack("case.tar.gz", &bytes, &SMALL).unwrap();
    scene.assert_contained("links inside");
    let read = |path: &str| fs_err::read_to_string(scene.dest().join(path)).unwrap();
    for (path, content) in [
        ("pkg/early.py", "B"),
        ("pkg/sibling.py", "A"),
        ("pkg/chain.py", "A"),
        ("pkg/api/str/__init__.py", "I"),
        ("pkg/dir/b.py", "B"),
        ("pkg/to_sub.py", "B"),
        ("pkg/here/a.py", "A"),
        ("pkg/root/pkg/a.py", "A"),
        ("pkg/copy.py", "A"),
    ] {
        assert_eq!(read(path), content, "{path}");
    }
    let made = [
        ("pkg/api/str/__init__.py", "../int/__init__.py"),
        ("pkg/chain.py", "sibling.py"),
        ("pkg/dir", "sub"),
        ("pkg/early.py", "dir/b.py"),
        ("pkg/here", "."),
        ("pkg/root", ".."),
        ("pkg/sibling.py", "a.py"),
        ("pkg/to_sub.py", "sub/b.py"),
    ];
    let made: Vec<_> = made
        .iter()
        .map(|(link, target)| (link.to_string(), target.to_string()))
        .collect();
    assert_eq!(scene.links(), made, "targets are made normalized");
    // The hard link is a copy: writing it leaves the file it named as it was.
    fs_err::write(scene.dest().join("pkg/copy.py"), "changed").unwrap();
    assert_eq!(read("pkg/a.py"), "A");
}

#[test]
fn zip_links_inside_the_tree_are_made() {
    let scene = Scene::new();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer
        .add_symlink("pkg/l.py", "../src/a.py", options)
        .unwrap();
    writer.start_file("src/a.py", options).unwrap();
    writer.write_all(b"A").unwrap();
    let bytes = writer.finish().unwrap().into_inner();
    scene.unpack("case.zip", &bytes, &SMALL).unwrap();
    scene.assert_contained("zip link");
    assert_eq!(scene.links(), [("pkg/l.py".into(), "../src/a.py".into())]);
    let content = fs_err::read_to_string(scene.dest().join("pkg/l.py")).unwrap();
    assert_eq!(content, "A");
}

#[test]
fn a_kept_top_directory_holds_its_links() {
    use tar::EntryType::{Regular, Symlink};
    let scene = Scene::new();
    let bytes = tar(&[
        member(b"top/a.py", Regular, b"A"),
        link(b"top/sub/fine.py", Symlink, b"../a.py"),
        link(b"top/round.py", Symlink, b"../top/a.py"),
    ]);
    scene.unpack("case.tar", &bytes, &SMALL).unwrap();
    scene.assert_contained("round trip");
    let archive = scene.root.path().join("case.tar");
    check_links(&archive, &scene.dest(), &scene.dest()).unwrap();
    // From `top/` alone, `../top/a.py` climbs out: moved elsewhere, it would lead elsewhere.
    match check_links(&archive, &scene.dest(), &scene.dest().join("top")) {
        Err(ArchiveError::Refused { entry, reason, .. }) => {
            assert_eq!(entry, "top/round.py");
            assert!(
                reason.contains("to `../top/a.py`, which leads outside"),
                "{reason}"
            );
        }
        other => panic!("not refused: {other:?}"),
    }
    fs_err::remove_file(scene.dest().join("top/round.py")).unwrap();
    check_links(&archive, &scene.dest(), &scene.dest().join("top")).unwrap();
}
