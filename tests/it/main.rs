//! Integration tests: the real `emwheel` binary, the real emcc from `scripts/setup`, and the
//! real Pyodide under Node.js. A test that cannot find the toolchain fails; none is skipped.

// The tests drive emwheel and other programs from outside, as a user does: `process::Cmd`
// (the product's one door, which clippy.toml enforces) is not theirs to use.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod breadth;
mod browser;
mod bytecode;
mod cache;
mod common;
mod core;
mod crash;
mod errors;
mod graph;
mod index;
mod loads;
mod metayaml;
mod native;
mod project;
mod rust;
mod sandbox;
mod shard;
mod targets;
mod toolchains;
mod trust;
