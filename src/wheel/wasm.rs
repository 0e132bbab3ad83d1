//! Checks that a `.so` is a wasm32-emscripten side module: wasm magic, version 1, and a
//! leading `dylink.0` custom section, whose `WASM_DYLINK_NEEDED` subsection lists the shared
//! libraries the module needs
//! ([tool conventions](https://github.com/WebAssembly/tool-conventions/blob/main/DynamicLinking.md)).

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const WASM_VERSION: &[u8; 4] = &[1, 0, 0, 0];
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const DYLINK_SECTION: &[u8] = b"dylink.0";
/// The `dylink.0` subsection that lists needed libraries.
const DYLINK_NEEDED: u8 = 2;
/// The `dylink.0` subsection that lists where to look for them (`$ORIGIN`-relative).
const DYLINK_RUNTIME_PATH: u8 = 5;

/// Returns `Ok(())` if `bytes` is a side module, or a lowercase reason why it is not.
pub fn check_side_module(bytes: &[u8]) -> Result<(), String> {
    match bytes.get(..8) {
        Some(h) if h.starts_with(ELF_MAGIC) => return Err("it is an ELF object".into()),
        Some(h) if &h[..4] != WASM_MAGIC => return Err("it has no wasm magic number".into()),
        Some(h) if &h[4..] != WASM_VERSION => return Err("it is not wasm version 1".into()),
        None => return Err("it is too short to be a wasm module".into()),
        Some(_) => {}
    }
    let first = first_section(&bytes[8..])?;
    match first {
        Some((0, payload)) if custom_section_name(payload)?.0 == DYLINK_SECTION => Ok(()),
        _ => Err("it has no leading `dylink.0` section (a main module, not a side module)".into()),
    }
}

/// The shared libraries a side module needs, in the order its `dylink.0` section lists them.
pub fn needed_libraries(bytes: &[u8]) -> Result<Vec<String>, String> {
    check_side_module(bytes)?;
    let (_, payload) = first_section(&bytes[8..])?.expect("a side module has a first section");
    let (_, mut rest) = custom_section_name(payload)?;
    while let Some((&kind, after_kind)) = rest.split_first() {
        let (size, after_size) = read_leb_u32(after_kind)?;
        let body = after_size
            .get(..size as usize)
            .ok_or("a `dylink.0` subsection runs past its section")?;
        if kind == DYLINK_NEEDED {
            return read_names(body);
        }
        rest = &after_size[size as usize..];
    }
    Ok(Vec::new())
}

/// The module with its `dylink.0` runtime path (rpath) set to `paths`, replacing any it had;
/// Emscripten's loader looks there (`$ORIGIN` = the module's directory) for needed libraries.
pub fn set_runtime_path(bytes: &[u8], paths: &[String]) -> Result<Vec<u8>, String> {
    check_side_module(bytes)?;
    let (_, payload) = first_section(&bytes[8..])?.expect("a side module has a first section");
    let (name, mut rest) = custom_section_name(payload)?;
    let mut new_payload = leb(name.len());
    new_payload.extend_from_slice(name);
    while let Some((&kind, after_kind)) = rest.split_first() {
        let (size, after_size) = read_leb_u32(after_kind)?;
        let body = after_size
            .get(..size as usize)
            .ok_or("a `dylink.0` subsection runs past its section")?;
        if kind != DYLINK_RUNTIME_PATH {
            new_payload.push(kind);
            new_payload.extend(leb(body.len()));
            new_payload.extend_from_slice(body);
        }
        rest = &after_size[size as usize..];
    }
    let mut body = leb(paths.len());
    for path in paths {
        body.extend(leb(path.len()));
        body.extend_from_slice(path.as_bytes());
    }
    new_payload.push(DYLINK_RUNTIME_PATH);
    new_payload.extend(leb(body.len()));
    new_payload.extend(body);
    let after_first = payload.as_ptr() as usize + payload.len() - bytes.as_ptr() as usize;
    let mut out = bytes[..8].to_vec();
    out.push(0);
    out.extend(leb(new_payload.len()));
    out.extend(new_payload);
    out.extend_from_slice(&bytes[after_first..]);
    Ok(out)
}

/// Encodes an unsigned LEB128.
fn leb(mut value: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A LEB128 count, then that many length-prefixed UTF-8 names.
fn read_names(body: &[u8]) -> Result<Vec<String>, String> {
    let (count, mut rest) = read_leb_u32(body)?;
    let mut names = Vec::new();
    for _ in 0..count {
        let (len, after) = read_leb_u32(rest)?;
        let name = after
            .get(..len as usize)
            .ok_or("a needed-library name runs past its subsection")?;
        names.push(String::from_utf8_lossy(name).into_owned());
        rest = &after[len as usize..];
    }
    Ok(names)
}

/// Walks every section header after the wasm preamble and returns the first section's
/// id and payload; a truncated header or payload anywhere is an error.
fn first_section(mut rest: &[u8]) -> Result<Option<(u8, &[u8])>, String> {
    let mut first = None;
    while let Some((&id, after_id)) = rest.split_first() {
        let (size, after_size) = read_leb_u32(after_id)?;
        let payload = after_size
            .get(..size as usize)
            .ok_or("a section runs past the end of the file")?;
        first.get_or_insert((id, payload));
        rest = &after_size[size as usize..];
    }
    Ok(first)
}

/// Splits a custom section's payload into its name and the bytes after it.
fn custom_section_name(payload: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (len, rest) = read_leb_u32(payload)?;
    if rest.len() < len as usize {
        return Err("a custom section name runs past its section".into());
    }
    Ok(rest.split_at(len as usize))
}

/// Decodes an unsigned LEB128 `u32`, returning it and the remaining bytes.
fn read_leb_u32(bytes: &[u8]) -> Result<(u32, &[u8]), String> {
    let mut value = 0u32;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, &bytes[i + 1..]));
        }
    }
    Err("a section header has a truncated or overlong LEB128 size".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::testutil::{custom_section, section, side_module, PREAMBLE};

    #[test]
    fn accepts_a_side_module() {
        assert_eq!(check_side_module(&side_module()), Ok(()));
    }

    #[test]
    fn lists_needed_libraries() {
        assert!(needed_libraries(&side_module()).unwrap().is_empty());
        let mut dylink = vec![1, 4, 0, 0, 0, 0];
        let needed: &[u8] = b"\x02\x0c\x01\x0alibyaml.so";
        dylink.extend_from_slice(needed);
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend(custom_section(b"dylink.0", &dylink));
        assert_eq!(needed_libraries(&bytes).unwrap(), ["libyaml.so"]);
        let truncated = &needed[..needed.len() - 2];
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend(custom_section(
            b"dylink.0",
            &[&[1, 4, 0, 0, 0, 0], truncated].concat(),
        ));
        assert!(needed_libraries(&bytes).unwrap_err().contains("past"));
    }

    #[test]
    fn sets_the_runtime_path_keeping_other_subsections() {
        let mut dylink = vec![1, 4, 0, 0, 0, 0];
        dylink.extend_from_slice(b"\x02\x0c\x01\x0alibyaml.so\x05\x03\x01\x01x");
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend(custom_section(b"dylink.0", &dylink));
        bytes.extend(section(1, &[0]));
        let paths = ["$ORIGIN/../pkg.libs".to_string()];
        let updated = set_runtime_path(&bytes, &paths).unwrap();
        assert_eq!(check_side_module(&updated), Ok(()));
        assert_eq!(needed_libraries(&updated).unwrap(), ["libyaml.so"]);
        let mut expected = PREAMBLE.to_vec();
        let mut body = vec![1, 4, 0, 0, 0, 0];
        body.extend_from_slice(b"\x02\x0c\x01\x0alibyaml.so\x05\x15\x01\x13$ORIGIN/../pkg.libs");
        let mut payload = vec![8];
        payload.extend_from_slice(b"dylink.0");
        payload.extend(body);
        expected.push(0);
        expected.push(payload.len() as u8);
        expected.extend(payload);
        expected.extend(section(1, &[0]));
        assert_eq!(updated, expected);
    }

    #[test]
    fn rejects_plain_wasm_without_dylink() {
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend(custom_section(b"name", &[]));
        bytes.extend(section(1, &[0]));
        let err = check_side_module(&bytes).unwrap_err();
        assert!(err.contains("dylink.0"), "{err}");
        let err = check_side_module(PREAMBLE).unwrap_err();
        assert!(err.contains("dylink.0"), "{err}");
    }

    #[test]
    fn rejects_elf_and_other_junk() {
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        assert!(check_side_module(elf).unwrap_err().contains("ELF"));
        assert!(check_side_module(b"\0asm")
            .unwrap_err()
            .contains("too short"));
        let v2 = b"\0asm\x02\0\0\0";
        assert!(check_side_module(v2).unwrap_err().contains("version 1"));
    }

    #[test]
    fn rejects_truncated_sections() {
        let mut bytes = side_module();
        bytes.pop();
        assert!(check_side_module(&bytes)
            .unwrap_err()
            .contains("past the end"));
        let mut bytes = PREAMBLE.to_vec();
        bytes.extend([0, 0x80, 0x80]);
        assert!(check_side_module(&bytes).unwrap_err().contains("LEB128"));
    }
}
