//! Real-world breadth: library recipes (static and shared), the shipped recipes built with
//! the real emcc and tested in the real Pyodide, CMake, Meson and scikit-build-core builds,
//! vendored shared libraries and unvendored tests.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::common::{assert_success, assert_user_error, build, emwheel, repo, test_home, TARGET};

/// The shipped recipes that build wheels, in an order that builds libraries first.
const PACKAGES: &[&str] = &[
    "markupsafe",
    "six",
    "attrs",
    "jinja2",
    "python-dateutil",
    "pyyaml",
    "xxhash",
    "msgpack",
    "ujson",
    "tree-sitter",
    "tree-sitter-json",
];

/// The shipped library recipes.
const LIBRARIES: &[&str] = &["libyaml", "libxxhash"];

fn recipe(name: &str) -> PathBuf {
    repo().join("recipes").join(name)
}

/// Builds `path` and returns every line `emwheel build` printed (main output first).
fn build_outputs(path: &Path, out: &Path) -> Vec<PathBuf> {
    crate::common::ensure_target();
    crate::common::build_outputs(path, out, &[]).0
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn zip_names(path: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    archive.file_names().map(str::to_owned).collect()
}

#[test]
fn shipped_recipes_build_and_pass_in_pyodide() {
    let out = tempfile::tempdir().unwrap();
    let mut times = Vec::new();
    for name in LIBRARIES.iter().chain(PACKAGES) {
        let start = Instant::now();
        let outputs = build_outputs(&recipe(name), out.path());
        times.push(format!("{name} {:.1}s", start.elapsed().as_secs_f64()));
        assert!(outputs[0].is_file(), "{name}: {outputs:?}");
    }
    eprintln!("build times: {}", times.join(", "));

    let manifest = test_home()
        .join("libraries")
        .join(TARGET)
        .join("manifests/libyaml.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "static_library");
    assert!(manifest["files"]["lib/libyaml.a"].as_str().unwrap().len() == 64);
    assert!(manifest["files"]["include/yaml.h"].is_string());

    let zip = out.path().join("libxxhash-0.8.1.zip");
    assert_eq!(zip_names(&zip), ["libxxhash.so"]);
    let xxhash = out
        .path()
        .join("xxhash-3.5.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl");
    assert!(zip_names(&xxhash).contains(&"xxhash.libs/libxxhash.so".to_string()));
    let abi3 = out
        .path()
        .join("tree_sitter_json-0.24.8-cp39-abi3-pyemscripten_2025_0_wasm32.whl");
    assert!(abi3.is_file(), "tree-sitter-json is not an abi3 wheel");

    let start = Instant::now();
    let output = emwheel()
        .arg("test")
        .args(LIBRARIES.iter().chain(PACKAGES).map(|name| recipe(name)))
        .arg("--dist")
        .arg(out.path())
        .args(["--target", TARGET])
        .output()
        .unwrap();
    assert_success(&output);
    eprintln!("pyodide tests: {:.1}s", start.elapsed().as_secs_f64());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches(": passed in").count(),
        PACKAGES.len(),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches(": a library recipe").count(),
        LIBRARIES.len(),
        "{stderr}"
    );
}

/// The proof of breadth: numpy from its sdist (Meson through numpy's vendored meson-python,
/// Cython, C and C++), inverting a matrix in Pyodide; and, in the same `build-recipes` run,
/// packages built against that wasm numpy: a setuptools one (Bottleneck) and a meson-python +
/// Cython one (PyWavelets), each computing in Pyodide.
#[test]
fn numpy_builds_from_its_sdist_and_inverts_a_matrix_in_pyodide() {
    let out = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let selection = ["numpy", "bottleneck", "pywavelets"];
    let output = crate::graph::build_recipes(&repo().join("recipes"), out.path(), &selection);
    assert_success(&output);
    eprintln!(
        "numpy, bottleneck and pywavelets built in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let wheel = "numpy-2.2.5-cp313-cp313-pyemscripten_2025_0_wasm32.whl";
    let numpy = out.path().join(wheel);
    assert!(out.path().join("numpy-tests.zip").is_file());
    let entries = zip_names(&numpy);
    for module in ["numpy/linalg/_umath_linalg", "numpy/fft/_pocketfft_umath"] {
        let module = format!("{module}.cpython-313-wasm32-emscripten.so");
        assert!(entries.contains(&module), "{module} is not in the wheel");
    }
    // meson records the compiler's path: the shared wrapper links, never the build dir,
    // whose random name would make every rebuild differ.
    let mut wheel = zip::ZipArchive::new(std::fs::File::open(&numpy).unwrap()).unwrap();
    let mut config = String::new();
    std::io::Read::read_to_string(
        &mut wheel.by_name("numpy/__config__.py").unwrap(),
        &mut config,
    )
    .unwrap();
    assert!(!config.contains("emwheel-numpy-"), "{config}");
    let kept = test_home()
        .join("libraries")
        .join(TARGET)
        .join("cross-build");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(kept.join("numpy.json")).unwrap()).unwrap();
    assert_eq!(record["version"], "2.2.5");
    assert_eq!(record["files"].as_object().unwrap().len(), 4, "{record}");
    for name in ["bottleneck", "pywavelets"] {
        let calls = out
            .path()
            .join(format!(".emwheel/logs/{name}.compiler.log"));
        assert_compiled_against_wasm_numpy(name, &std::fs::read_to_string(calls).unwrap());
    }
    let recipes = selection.map(recipe);
    crate::common::assert_pass_in_pyodide(&recipes, out.path());
}

/// cffi against the target's libffi headers, and a cffi-based package built with the host's
/// cffi of the target's version: argon2-cffi-bindings, whose SSE2 code emcc maps onto wasm
/// SIMD, computes the reference Argon2id test vector in Pyodide.
#[test]
fn cffi_and_a_cffi_package_with_sse2_code_build_and_hash_in_pyodide() {
    let out = tempfile::tempdir().unwrap();
    let selection = ["argon2-cffi-bindings"];
    let output = crate::graph::build_recipes(&repo().join("recipes"), out.path(), &selection);
    assert_success(&output);
    let calls = out
        .path()
        .join(".emwheel/logs/argon2-cffi-bindings.compiler.log");
    let calls = std::fs::read_to_string(calls).unwrap();
    let sse2_on_wasm_simd = calls.lines().any(|line| {
        let call: serde_json::Value = serde_json::from_str(line).unwrap();
        let rewritten = call["rewritten"].as_array().unwrap();
        ["-msse2", "-mrelaxed-simd"]
            .iter()
            .all(|flag| rewritten.iter().any(|arg| arg == flag))
    });
    assert!(
        sse2_on_wasm_simd,
        "libargon2's opt.c did not compile with SSE2 on wasm SIMD"
    );
    let recipes = ["cffi", "argon2-cffi-bindings"].map(recipe);
    crate::common::assert_pass_in_pyodide(&recipes, out.path());
}

/// Every `-I…/numpy/_core/include` in a package's compiler calls (`compiler.log`, a JSON
/// object a call) names a build environment whose `_numpyconfig.h` says a `long` is 4 bytes,
/// as on wasm32 (8 on the x86_64 host). Meson writes the directory relative to its build
/// dir, so it is found again by the build environment's name.
fn assert_compiled_against_wasm_numpy(name: &str, calls: &str) {
    let mut includes = std::collections::BTreeSet::new();
    for line in calls.lines() {
        let call: serde_json::Value = serde_json::from_str(line).unwrap();
        for arg in call["rewritten"].as_array().unwrap() {
            let arg = arg.as_str().unwrap();
            if let (Some(_), Some((_, env))) =
                (arg.strip_prefix("-I"), arg.rsplit_once("/build-envs/"))
            {
                if env.trim_end_matches('/').ends_with("numpy/_core/include") {
                    includes.insert(test_home().join("build-envs").join(env));
                }
            }
        }
    }
    assert!(
        !includes.is_empty(),
        "{name} compiled without numpy's headers"
    );
    for dir in includes {
        let config = std::fs::read_to_string(dir.join("numpy/_numpyconfig.h")).unwrap();
        assert!(
            config.contains("#define NPY_SIZEOF_LONG 4"),
            "{name} compiled against {}, whose _numpyconfig.h is not wasm32's",
            dir.display()
        );
    }
}

#[test]
fn meson_and_scikit_build_core_cross_compile() {
    let out = tempfile::tempdir().unwrap();
    let fixtures = repo().join("tests/fixtures");
    let meson = build_outputs(&fixtures.join("meson-ext"), out.path());
    assert_eq!(
        meson.iter().map(|p| file_name(p)).collect::<Vec<_>>(),
        [
            "meson_ext-1.0.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl",
            "meson-ext-tests.zip"
        ]
    );
    assert_eq!(
        zip_names(&meson[1]),
        [
            "meson_ext/tests/__init__.py",
            "meson_ext/tests/test_core.py"
        ]
    );
    assert!(!zip_names(&meson[0]).iter().any(|n| n.contains("tests/")));
    let skbuild = build(&fixtures.join("skbuild-ext"), out.path());
    assert_eq!(
        file_name(&skbuild),
        "skbuild_ext-1.0.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"
    );
    let fixtures = [fixtures.join("meson-ext"), fixtures.join("skbuild-ext")];
    crate::common::assert_pass_in_pyodide(&fixtures, out.path());
}

#[test]
fn an_unbuilt_host_requirement_names_its_recipe() {
    let recipes = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        std::fs::create_dir_all(recipes.path().join(name)).unwrap();
        std::fs::write(recipes.path().join(name).join("recipe.toml"), text).unwrap();
    };
    write(
        "libnever",
        "[package]\nname = \"libnever\"\nversion = \"1\"\n[source]\npath = \".\"\n\
         [build]\ntype = \"static_library\"\nscript = \"true\"\n",
    );
    write(
        "uses-never",
        &format!(
            "[package]\nname = \"uses-never\"\nversion = \"1\"\n[source]\npath = \"{}\"\n\
             [requirements]\nhost = [\"libnever\"]\n",
            repo().join("tests/fixtures/cxx-ext").display()
        ),
    );
    crate::common::ensure_target();
    let output = emwheel()
        .arg("build")
        .arg(recipes.path().join("uses-never"))
        .arg("--allow-emcc-mismatch")
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(
        stderr.contains(&format!(
            "host requirement `libnever` is not built for target `{TARGET}`"
        )),
        "{stderr}"
    );
    let hint = format!(
        "emwheel build {}",
        recipes.path().join("libnever").display()
    );
    assert!(stderr.contains(&hint), "{stderr}");
}
