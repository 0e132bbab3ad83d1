//! Tests for loading and validating recipes from temporary directories.

use std::path::PathBuf;

use pretty_assertions::assert_eq;
use tempfile::TempDir;

use super::*;
use crate::ui::render_plain as render;

/// A well-formed digest, used by `MINIMAL` and `FULL`.
const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A recipe dir holding `recipe.toml` with `text`, a patch, an extra file and a source dir.
fn recipe_dir(text: &str) -> TempDir {
    recipe_dir_with(RECIPE_FILE, text)
}

/// A recipe dir holding `file` with `text`, a patch, an extra file and a source dir.
pub(super) fn recipe_dir_with(file: &str, text: &str) -> TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for dir in ["patches", "extra", "src-tree"] {
        std::fs::create_dir(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("patches/fix.patch"), "").unwrap();
    std::fs::write(root.join("extra/file.c"), "").unwrap();
    std::fs::write(root.join(file), text).unwrap();
    tmp
}

/// Loads `text` as a recipe that must be valid.
fn load_ok(text: &str) -> (TempDir, Recipe) {
    let tmp = recipe_dir(text);
    let recipe = load(tmp.path()).unwrap_or_else(|e| panic!("{}", render(&e)));
    (tmp, recipe)
}

/// Loads `text` as a recipe that must fail at a place in the file.
fn load_invalid(text: &str) -> Box<InvalidRecipe> {
    load_invalid_in(recipe_dir(text))
}

/// Loads the recipe in `tmp`, which must fail at a place in the file.
pub(super) fn load_invalid_in(tmp: TempDir) -> Box<InvalidRecipe> {
    match load(tmp.path()) {
        Err(RecipeError::Invalid(err)) => err,
        other => panic!("expected an invalid recipe, got {other:?}"),
    }
}

/// One-based line and column of the error's label.
pub(super) fn line_col(err: &InvalidRecipe) -> (usize, usize) {
    err.line_col().expect("error has a span")
}

/// Asserts the message, `line:col` and help of an error, and that rendering shows them.
fn assert_error(err: &InvalidRecipe, message: &str, at: (usize, usize), help: &str) {
    assert_error_in(RECIPE_FILE, err, message, at, help);
}

/// As [`assert_error`], for an error in `file`.
pub(super) fn assert_error_in(
    file: &str,
    err: &InvalidRecipe,
    message: &str,
    at: (usize, usize),
    help: &str,
) {
    assert_eq!(err.message, message);
    assert_eq!(line_col(err), at);
    assert!(
        err.help.contains(help),
        "help {:?} lacks {help:?}",
        err.help
    );
    let text = render(err);
    let place = format!("{}:{}:{}", file, at.0, at.1);
    for needle in [message, &place, help] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}

/// The smallest valid recipe: a pinned PyPI sdist.
const MINIMAL: &str = r#"[package]
name = "markupsafe"
version = "2.1.5"

[source]
pypi = "MarkupSafe==2.1.5"
sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
"#;

#[test]
fn minimal_recipe_gets_defaults() {
    let (tmp, recipe) = load_ok(MINIMAL);
    assert_eq!(recipe.name(), "markupsafe");
    assert_eq!(recipe.version(), "2.1.5");
    assert_eq!(recipe.dir(), tmp.path().canonicalize().unwrap());
    assert_eq!(recipe.file(), recipe.dir().join(RECIPE_FILE));
    let SourceKind::Pypi { pin } = &recipe.source().kind else {
        panic!("expected a pypi source");
    };
    assert_eq!((pin.name(), pin.version()), ("MarkupSafe", "2.1.5"));
    assert_eq!(pin.to_string(), "MarkupSafe==2.1.5");
    assert_eq!(recipe.source().sha256.as_ref().unwrap().as_str(), SHA);
    assert_eq!(recipe.build(), &Build::default());
    assert!(recipe.build().unvendor_tests);
    assert_eq!(recipe.requirements(), &Requirements::default());
    assert_eq!(recipe.test(), &Test::default());
    assert_eq!(recipe.about(), &About::default());
}

#[test]
fn load_accepts_the_file_itself() {
    let tmp = recipe_dir(MINIMAL);
    let recipe = load(&tmp.path().join(RECIPE_FILE)).unwrap();
    assert_eq!(recipe.dir(), tmp.path().canonicalize().unwrap());
}

/// A recipe using every key, with a local source tree.
const FULL: &str = r#"[package]
name = "cxx-ext"
version = "0.1"
top-level = ["cxx_ext"]
tag = ["core"]

[source]
path = "src-tree"
sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
patches = ["patches/fix.patch"]
extras = [["extra/file.c", "src/file.c"]]
extract-dir = "cxx-ext-0.1"

[build]
type = "shared_library"
script = "echo script"
cross-script = "echo cross"
post = "echo post"
cflags = "-O2"
cxxflags = "-std=c++17"
ldflags = "-lm"
backend-flags = "-Cfoo=bar"
exports = "whole_archive"
unvendor-tests = false
vendor-sharedlib = true
pure = true
cross-build-env = true
cross-build-files = ["cxx_ext/include/config.h"]

[requirements]
host = ["libyaml"]
run = ["six"]
executable = ["cmake"]
constraint = ["setuptools<80"]

[test]
imports = ["cxx_ext"]
script = "import cxx_ext"

[about]
home = "https://example.org"
PyPI = "https://pypi.org/project/cxx-ext"
summary = "demo"
license = "MIT"
"#;

#[test]
fn full_recipe_is_read_into_typed_fields() {
    let (_tmp, recipe) = load_ok(FULL);
    let dir = recipe.dir().to_path_buf();
    let expected_source = Source {
        kind: SourceKind::Path {
            path: dir.join("src-tree"),
        },
        sha256: Some(Sha256::try_from(SHA.to_owned()).unwrap()),
        patches: vec![dir.join("patches/fix.patch")],
        extras: vec![Extra {
            from: dir.join("extra/file.c"),
            to: PathBuf::from("src/file.c"),
        }],
        extract_dir: Some("cxx-ext-0.1".into()),
    };
    assert_eq!(recipe.source(), &expected_source);
    assert_eq!(recipe.top_level(), ["cxx_ext"]);
    assert_eq!(recipe.package().tag, ["core"]);
    let expected_build = Build {
        kind: BuildType::SharedLibrary,
        script: Some("echo script".into()),
        cross_script: Some("echo cross".into()),
        post: Some("echo post".into()),
        cflags: "-O2".into(),
        cxxflags: "-std=c++17".into(),
        ldflags: "-lm".into(),
        backend_flags: "-Cfoo=bar".into(),
        exports: Exports::WholeArchive,
        unvendor_tests: false,
        vendor_sharedlib: true,
        pure: true,
        cross_build_env: true,
        cross_build_files: vec![WheelPath::try_from("cxx_ext/include/config.h".to_owned()).unwrap()],
    };
    assert_eq!(recipe.build(), &expected_build);
    assert_eq!(recipe.requirements().host, ["libyaml"]);
    assert_eq!(recipe.requirements().constraint, ["setuptools<80"]);
    assert_eq!(recipe.test().script.as_deref(), Some("import cxx_ext"));
    assert_eq!(
        recipe.about().pypi.as_deref(),
        Some("https://pypi.org/project/cxx-ext")
    );
}

#[test]
fn url_source_with_sha256() {
    let text = MINIMAL.replace(
        "pypi = \"MarkupSafe==2.1.5\"",
        "url = \"https://x.org/a.tar.gz\"",
    );
    let (_tmp, recipe) = load_ok(&text);
    let url = "https://x.org/a.tar.gz".to_owned();
    assert_eq!(recipe.source().kind, SourceKind::Url { url });
    let sha = recipe.source().sha256.as_ref().unwrap();
    assert!(!sha.matches_digest(&[0; 32]));
    assert!(sha.matches_digest(&hex::decode(SHA).unwrap()));
}

#[test]
fn exports_list_form() {
    let text = format!("{MINIMAL}\n[build]\nexports = [\"PyInit_a\", \"helper\"]\n");
    let (_tmp, recipe) = load_ok(&text);
    let symbols = vec!["PyInit_a".to_owned(), "helper".to_owned()];
    assert_eq!(recipe.build().exports, Exports::Explicit(symbols));
}

#[test]
fn unknown_export_mode_suggests_nearest() {
    let err = load_invalid(&format!("{MINIMAL}\n[build]\nexports = \"requsted\"\n"));
    assert_error(
        &err,
        "unknown value `requsted`",
        (10, 11),
        "did you mean `requested`?",
    );
}

#[test]
fn unknown_build_type_suggests_nearest() {
    let err = load_invalid(&format!("{MINIMAL}\n[build]\ntype = \"static-library\"\n"));
    assert_error(
        &err,
        "unknown value `static-library`",
        (10, 8),
        "did you mean `static_library`?",
    );
}

/// `(table, misspelled key, expected suggestion)` for every table.
const TYPOS: &[(&str, &str, &str)] = &[
    ("package", "top_level", "top-level"),
    ("source", "sha265", "sha256"),
    ("build", "scirpt", "script"),
    ("requirements", "hots", "host"),
    ("test", "import", "imports"),
    ("about", "pypi", "PyPI"),
];

/// `MINIMAL` with `line` added to `table`, creating the table if needed.
fn with_line(table: &str, line: &str) -> String {
    let header = format!("[{table}]\n");
    if MINIMAL.contains(&header) {
        MINIMAL.replacen(&header, &format!("{header}{line}\n"), 1)
    } else {
        format!("{MINIMAL}\n{header}{line}\n")
    }
}

/// The one-based line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

#[test]
fn unknown_key_in_each_table_names_it_and_suggests_nearest() {
    for &(table, typo, suggestion) in TYPOS {
        let line = format!("{typo} = \"x\"");
        let text = with_line(table, &line);
        let err = load_invalid(&text);
        let help = format!("did you mean `{suggestion}`?");
        assert_error(
            &err,
            &format!("unknown key `{typo}`"),
            (line_of(&text, &line), 1),
            &help,
        );
    }
}

#[test]
fn unknown_table_suggests_nearest() {
    let text = format!("{MINIMAL}\n[requirement]\nrun = []\n");
    let err = load_invalid(&text);
    assert_error(
        &err,
        "unknown key `requirement`",
        (9, 2),
        "did you mean `requirements`?",
    );
}

#[test]
fn far_off_key_lists_valid_keys() {
    let err = load_invalid(&with_line("test", "zzzzzzzz = 1"));
    assert_eq!(err.help, "valid keys: `imports`, `script`");
}

#[test]
fn wrong_type_points_at_value() {
    let text = with_line("build", "unvendor-tests = \"yes\"");
    let err = load_invalid(&text);
    assert_eq!(line_col(&err), (line_of(&text, "unvendor-tests"), 18));
    assert!(
        err.message.starts_with("invalid type: string \"yes\""),
        "{}",
        err.message
    );
    assert_eq!(err.help, "write a boolean here");
}

#[test]
fn missing_required_key() {
    let err = load_invalid(&MINIMAL.replace("version = \"2.1.5\"\n", ""));
    assert_eq!(err.message, "missing key `version`");
    assert_eq!(err.help, "add `version` to this table");
}

#[test]
fn syntax_error_is_located() {
    let err = load_invalid(&with_line("build", "script = "));
    assert_eq!(line_col(&err).0, 10);
    assert!(err.help.contains("meta.yaml"));
}

#[test]
fn bad_sha256_points_at_value() {
    let text = MINIMAL.replace(SHA, "ABC");
    let err = load_invalid(&text);
    assert_error(
        &err,
        "`ABC` is not a sha256 digest",
        (7, 10),
        "sha256sum <file>",
    );
}

#[test]
fn uppercase_sha256_is_rejected() {
    let err = load_invalid(&MINIMAL.replace(SHA, &SHA.to_uppercase()));
    assert!(err.message.ends_with("is not a sha256 digest"));
}

#[test]
fn bad_pypi_pin_points_at_value() {
    let err = load_invalid(&MINIMAL.replace("MarkupSafe==2.1.5", "markupsafe>=2"));
    assert_error(
        &err,
        "`markupsafe>=2` is not an exact pin",
        (6, 8),
        "`Name==Version`",
    );
}

#[test]
fn pins_need_a_name_and_a_single_version() {
    for pin in [
        "==1.0", "a==", "a==1.*", "a==1,<2", "a===1", "a == 1", "a==1==2",
    ] {
        assert!(PypiPin::try_from(pin.to_owned()).is_err(), "{pin} accepted");
    }
    let pin = PypiPin::try_from("zope.interface==6.0.post1".to_owned()).unwrap();
    assert_eq!((pin.name(), pin.version()), ("zope.interface", "6.0.post1"));
}

#[test]
fn bad_package_name() {
    let err = load_invalid(&MINIMAL.replace("name = \"markupsafe\"", "name = \"-bad name\""));
    assert_error(
        &err,
        "`-bad name` is not a valid package name",
        (2, 8),
        "letters, digits",
    );
}

#[test]
fn pypi_without_sha256_says_how_to_get_it() {
    let text = MINIMAL.replace(&format!("sha256 = \"{SHA}\"\n"), "");
    let err = load_invalid(&text);
    let help = "add `sha256 = \"…\"` to `[source]`; get it with `pip download";
    assert_error(&err, "downloaded source has no `sha256`", (6, 8), help);
}

#[test]
fn url_without_sha256_is_rejected() {
    let err =
        load_invalid("[package]\nname = \"a\"\nversion = \"1\"\n[source]\nurl = \"https://x\"\n");
    assert_eq!(err.message, "downloaded source has no `sha256`");
    assert!(err.help.contains("sha256sum"));
}

#[test]
fn debian_sources_are_name_equals_version_with_a_digest() {
    let debian = |value: &str, digest: bool| {
        let sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let sha = if digest {
            format!("sha256 = \"{sha}\"\n")
        } else {
            String::new()
        };
        format!("[package]\nname = \"libyaml\"\nversion = \"0.2.5\"\n\n[source]\ndebian = \"{value}\"\n{sha}")
    };
    let (_tmp, recipe) = load_ok(&debian("libyaml=0.2.5-1", true));
    let SourceKind::Debian { package } = &recipe.source().kind else {
        panic!("expected a debian source");
    };
    assert_eq!(package, "libyaml=0.2.5-1");
    let err = load_invalid(&debian("libyaml", true));
    assert_error(
        &err,
        "`libyaml` is not a Debian source package pin",
        (6, 10),
        "libyaml=0.2.5-1",
    );
    let err = load_invalid(&debian("libyaml=0.2.5-1", false));
    assert_error(
        &err,
        "downloaded source has no `sha256`",
        (6, 10),
        "apt-get source",
    );
}

#[test]
fn two_sources_point_at_the_second() {
    let text = with_line("source", "url = \"https://x.org/a.tar.gz\"");
    let err = load_invalid(&text);
    let help = "keep exactly one of `url`, `pypi`, `debian` or `path`";
    assert_error(
        &err,
        "`[source]` has both `url` and `pypi`",
        (line_of(&text, "pypi"), 8),
        help,
    );
}

#[test]
fn empty_source_table_is_rejected() {
    let text = "[package]\nname = \"a\"\nversion = \"1\"\n\n[source]\npatches = []\n";
    let err = load_invalid(text);
    assert_error(
        &err,
        "`[source]` has no `url`, `pypi`, `debian` or `path`",
        (5, 1),
        "add one",
    );
}

#[test]
fn missing_source_table_is_rejected() {
    let err = load_invalid("[package]\nname = \"a\"\nversion = \"1\"\n");
    assert_eq!(err.message, "missing table `[source]`");
    assert_eq!(err.help, "add a `[source]` table");
}

#[test]
fn missing_patch_file() {
    let text = with_line(
        "source",
        "patches = [\"patches/fix.patch\", \"patches/nope.patch\"]",
    );
    let err = load_invalid(&text);
    let at = (line_of(&text, "patches"), 33);
    assert_error(
        &err,
        "patch `patches/nope.patch` does not exist",
        at,
        "relative to the recipe dir",
    );
}

#[test]
fn missing_extra_file_and_escaping_destination() {
    let err = load_invalid(&with_line(
        "source",
        "extras = [[\"extra/nope.c\", \"a.c\"]]",
    ));
    assert_eq!(err.message, "extra file `extra/nope.c` does not exist");
    let err = load_invalid(&with_line(
        "source",
        "extras = [[\"extra/file.c\", \"../a.c\"]]",
    ));
    assert_eq!(
        err.message,
        "extra destination `../a.c` leaves the source dir"
    );
}

#[test]
fn missing_source_path() {
    let text = "[package]\nname = \"a\"\nversion = \"1\"\n[source]\npath = \"../nowhere\"\n";
    let err = load_invalid(text);
    assert_error(
        &err,
        "source path `../nowhere` does not exist",
        (5, 8),
        "recipe dir",
    );
}

#[test]
fn unreadable_recipe_says_what_to_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load(tmp.path()).unwrap_err();
    assert!(matches!(err, RecipeError::Read { .. }));
    let text = render(&err);
    assert!(text.contains("cannot read recipe"), "{text}");
    assert!(text.contains("holding `recipe.toml`"), "{text}");
}

#[test]
fn dependency_errors_point_at_the_entry() {
    let text = format!("{MINIMAL}\n[requirements]\nhost = [\"numpy\"]\nrun = [\"six\", \"sxi\"]\n");
    let (_tmp, recipe) = load_ok(&text);
    assert_eq!(recipe.dependencies(DependencyKind::Host), ["numpy"]);
    assert_eq!(recipe.dependencies(DependencyKind::Run), ["six", "sxi"]);
    assert_eq!(recipe.text(), text);
    let problem = Problem::new("no recipe `sxi`", "here", "did you mean `six`?");
    let RecipeError::Invalid(err) = recipe.dependency_error(DependencyKind::Run, 1, problem) else {
        panic!("expected a located error");
    };
    assert_error(&err, "no recipe `sxi`", (11, 15), "did you mean `six`?");
}
