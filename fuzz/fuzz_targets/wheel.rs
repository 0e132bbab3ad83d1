//! Wheel file names and `RECORD` text, then `wheel::verify` on the bytes as a wheel file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(name) = text.trim().parse::<emwheel::wheel::WheelName>() {
            // A name that parses prints back to one that parses the same.
            let again: emwheel::wheel::WheelName = name.to_string().parse().unwrap();
            assert_eq!(again, name);
        }
        let _ = emwheel::wheel::parse_record(text);
    }
    let dir = tempfile::tempdir().unwrap();
    let wheel = dir.path().join("pkg-1.0-py3-none-any.whl");
    std::fs::write(&wheel, data).unwrap();
    let _ = emwheel::wheel::verify(&wheel);
});
