//! Checks that a `.so` is a wasm32-emscripten side module: wasm magic, version 1, and a
//! leading `dylink.0` custom section
//! ([tool conventions](https://github.com/WebAssembly/tool-conventions/blob/main/DynamicLinking.md)).

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const WASM_VERSION: &[u8; 4] = &[1, 0, 0, 0];
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const DYLINK_SECTION: &[u8] = b"dylink.0";

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
        Some((0, payload)) if custom_section_name(payload)? == DYLINK_SECTION => Ok(()),
        _ => Err("it has no leading `dylink.0` section (a main module, not a side module)".into()),
    }
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

/// Reads the name that opens a custom section's payload.
fn custom_section_name(payload: &[u8]) -> Result<&[u8], String> {
    let (len, rest) = read_leb_u32(payload)?;
    rest.get(..len as usize)
        .ok_or_else(|| "a custom section name runs past its section".into())
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
