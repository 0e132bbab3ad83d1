//! `Target::open` on any `target.json`: a newer format is refused, anything else malformed is
//! an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("target.json"), data).unwrap();
    if let Ok(target) = emwheel::crossenv::Target::open(dir.path()) {
        let _ = (
            target.python_tag(),
            target.emscripten_version(),
            target.include_dir(),
        );
    }
});
