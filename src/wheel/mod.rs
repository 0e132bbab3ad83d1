//! Reading a wheel built by a PEP 517 backend, repairing it for wasm32-emscripten and writing
//! it back deterministically and atomically.
//!
//! Specs: [PEP 427](https://peps.python.org/pep-0427/) (wheel format),
//! [PEP 491](https://peps.python.org/pep-0491/) (wheel 1.9 draft: file names, `RECORD`),
//! [PEP 783](https://peps.python.org/pep-0783/) (Emscripten platform tags).
//!
//! The steps: [`unpack`], [`UnpackedWheel::repair`], [`UnpackedWheel::write`], and [`verify`].

mod error;
mod metadata;
mod name;
mod perm;
mod record;
mod repair;
mod slim;
mod split;
mod unpack;
mod verify;
mod wasm;
mod write;

#[cfg(test)]
mod testutil;

pub use error::WheelError;
pub use metadata::{read_metadata, WheelMetadata};
pub use name::{normalize, WheelName};
pub use record::{parse_record, RecordEntry};
pub use repair::RepairReport;
pub use slim::Slim;
pub use unpack::{unpack, UnpackedWheel};
pub use verify::{verify, WheelSummary};
pub use write::write_zip_tree;

/// What a wheel is repaired for: the interpreter and platform of the Pyodide target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTags {
    /// Interpreter tag, e.g. `cp313`.
    pub python_tag: String,
    /// Platform tag, e.g. `pyemscripten_2025_0_wasm32`.
    pub platform_tag: String,
    /// Extension-module suffix, e.g. `.cpython-313-wasm32-emscripten.so`.
    pub ext_suffix: String,
}
