//! emwheel: cross-compiles Python packages into wasm32-emscripten wheels for Pyodide.
//!
//! The core (`recipe`, `crossenv`, `builder`, `wheel`, `runtime`) knows nothing of the terminal:
//! it reports progress through [`ui::Progress`], which the command line implements.

pub mod archive;
pub mod builder;
pub mod cli;
pub mod crossenv;
pub mod fsutil;
pub mod graph;
pub mod hash;
pub mod home;
pub mod http;
pub mod index;
pub mod pip;
pub mod process;
pub mod pycompile;
pub mod recipe;
pub mod report;
pub mod runtime;
pub mod toolchain;
pub mod ui;
pub mod wheel;
