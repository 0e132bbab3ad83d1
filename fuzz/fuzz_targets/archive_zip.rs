//! `archive::unpack_with` on any zip: whatever it does, nothing may appear outside the
//! destination and no link may lead there.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "archive_check.rs"]
mod archive_check;

fuzz_target!(|data: &[u8]| archive_check::unpack_and_check(data, "fuzzed.zip"));
