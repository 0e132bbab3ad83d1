//! Wheel file names and tags: parsing, formatting and retagging
//! ([PEP 427](https://peps.python.org/pep-0427/#file-name-convention),
//! [PEP 425](https://peps.python.org/pep-0425/)).

use std::fmt;
use std::str::FromStr;

use super::{TargetTags, WheelError};

/// A parsed wheel file name:
/// `{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    /// Distribution name, PEP 503-normalized with `_` separators (file-name form).
    pub distribution: String,
    /// Version string, as written by the backend.
    pub version: String,
    /// Optional build tag; always starts with a digit.
    pub build: Option<String>,
    /// Python tag, possibly a compressed set such as `py2.py3`.
    pub python_tag: String,
    /// ABI tag, e.g. `cp313`, `abi3` or `none`.
    pub abi_tag: String,
    /// Platform tag, e.g. `pyemscripten_2025_0_wasm32` or `any`.
    pub platform_tag: String,
}

/// PEP 503-normalizes a project name: runs of `-`, `_`, `.` become one `-`, lowercased.
///
/// See <https://peps.python.org/pep-0503/#normalized-names>.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for part in name.split(['-', '_', '.']).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&part.to_ascii_lowercase());
    }
    out
}

impl WheelName {
    /// True for `…-none-any` wheels, which run on every platform.
    pub fn is_pure(&self) -> bool {
        self.abi_tag == "none" && self.platform_tag == "any"
    }

    /// Every `{python}-{abi}-{platform}` tag the (possibly compressed) tag set expands to,
    /// in the order used for the `Tag:` lines of `WHEEL`.
    pub fn expanded_tags(&self) -> Vec<String> {
        let mut tags = Vec::new();
        for py in self.python_tag.split('.') {
            for abi in self.abi_tag.split('.') {
                for plat in self.platform_tag.split('.') {
                    tags.push(format!("{py}-{abi}-{plat}"));
                }
            }
        }
        tags
    }

    /// The tags this wheel must carry on `target`.
    ///
    /// Pure wheels without platform content keep their tags; `abi3` wheels keep their
    /// Python tag and `abi3`; every other wheel becomes `{python}-{python}-{platform}`
    /// of the target ([PEP 783](https://peps.python.org/pep-0783/)).
    pub fn retag(&self, target: &TargetTags, platform_content: bool) -> WheelName {
        let (python_tag, abi_tag) = if self.is_pure() && !platform_content {
            return self.clone();
        } else if self.abi_tag == "abi3" {
            (self.python_tag.clone(), self.abi_tag.clone())
        } else {
            (target.python_tag.clone(), target.python_tag.clone())
        };
        WheelName {
            python_tag,
            abi_tag,
            platform_tag: target.platform_tag.clone(),
            ..self.clone()
        }
    }
}

impl WheelName {
    /// Why this wheel cannot install on `target`, naming the tags that differ; `None` when
    /// one of its tags is one the target supports (as micropip and
    /// [packaging's `sys_tags`](https://packaging.pypa.io/en/stable/tags.html) decide):
    /// platform `any` or the target's; and `cpXY-cpXY` or `cpXY-none` of the target's
    /// Python, `cp3K-abi3` or `py3`/`py3K` with `none` for `K` up to the target's.
    pub fn incompatibility(&self, target: &TargetTags) -> Option<String> {
        let minor = |tag: &str, prefix: &str| tag.strip_prefix(prefix)?.parse::<u32>().ok();
        let target_minor = minor(&target.python_tag, "cp3").unwrap_or(0);
        let platform_ok = |plat: &str| plat == "any" || plat == target.platform_tag;
        let python_ok = |py: &str, abi: &str| match abi {
            "abi3" => minor(py, "cp3").is_some_and(|m| m <= target_minor),
            "none" => {
                py == "py3"
                    || py == target.python_tag
                    || minor(py, "py3").is_some_and(|m| m <= target_minor)
            }
            _ => py == target.python_tag && abi == target.python_tag,
        };
        let platforms: Vec<&str> = self.platform_tag.split('.').collect();
        let pythons = || {
            self.python_tag
                .split('.')
                .flat_map(|py| self.abi_tag.split('.').map(move |abi| (py, abi)))
        };
        let platform_differs = !platforms.iter().any(|plat| platform_ok(plat));
        let python_differs = !pythons().any(|(py, abi)| python_ok(py, abi));
        let mut differences = Vec::new();
        if python_differs {
            differences.push(format!(
                "Python/ABI tags `{}-{}` (the target takes `{}`)",
                self.python_tag, self.abi_tag, target.python_tag
            ));
        }
        if platform_differs {
            differences.push(format!(
                "platform tag `{}` (the target takes `{}`)",
                self.platform_tag, target.platform_tag
            ));
        }
        (!differences.is_empty()).then(|| differences.join(" and "))
    }
}

fn invalid(name: &str, reason: impl Into<String>) -> WheelError {
    WheelError::InvalidName {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// Characters besides ASCII alphanumerics allowed in names and tags.
const NAME_CHARS: &[char] = &['_', '.'];
/// Characters besides ASCII alphanumerics allowed in versions (PEP 440, `-` excluded).
const VERSION_CHARS: &[char] = &['_', '.', '+', '!'];

/// Checks that `part` is non-empty and made only of ASCII alphanumerics and `allowed`.
fn check_part(file: &str, what: &str, part: &str, allowed: &[char]) -> Result<(), WheelError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || allowed.contains(&c);
    if part.is_empty() || !part.chars().all(ok) {
        return Err(invalid(file, format!("bad {what} `{part}`")));
    }
    Ok(())
}

/// Checks a distribution name: a name part that starts and ends with a letter or digit
/// (PEP 508), so that it cannot normalize to nothing (`___`).
fn check_distribution(file: &str, dist: &str) -> Result<(), WheelError> {
    check_part(file, "distribution", dist, NAME_CHARS)?;
    let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !(alphanumeric(dist.chars().next()) && alphanumeric(dist.chars().last())) {
        let reason = format!("distribution `{dist}` must start and end with a letter or digit");
        return Err(invalid(file, reason));
    }
    Ok(())
}

/// Checks a build tag: a name part that starts with a digit.
fn check_build(file: &str, build: &str) -> Result<(), WheelError> {
    check_part(file, "build tag", build, NAME_CHARS)?;
    if !build.starts_with(|c: char| c.is_ascii_digit()) {
        let reason = format!("build tag `{build}` must start with a digit");
        return Err(invalid(file, reason));
    }
    Ok(())
}

impl FromStr for WheelName {
    type Err = WheelError;

    fn from_str(file: &str) -> Result<Self, Self::Err> {
        let stem = file
            .strip_suffix(".whl")
            .ok_or_else(|| invalid(file, "missing `.whl` extension"))?;
        let (dist, version, build, [py, abi, plat]) = match *stem.split('-').collect::<Vec<_>>() {
            [d, v, py, abi, plat] => (d, v, None, [py, abi, plat]),
            [d, v, b, py, abi, plat] => (d, v, Some(b), [py, abi, plat]),
            _ => return Err(invalid(file, "expected 5 or 6 `-`-separated parts")),
        };
        check_distribution(file, dist)?;
        check_part(file, "version", version, VERSION_CHARS)?;
        for (what, tag) in [("python tag", py), ("abi tag", abi), ("platform tag", plat)] {
            check_part(file, what, tag, NAME_CHARS)?;
        }
        build.map_or(Ok(()), |b| check_build(file, b))?;
        Ok(WheelName {
            distribution: normalize(dist).replace('-', "_"),
            version: version.to_owned(),
            build: build.map(str::to_owned),
            python_tag: py.to_owned(),
            abi_tag: abi.to_owned(),
            platform_tag: plat.to_owned(),
        })
    }
}

impl fmt::Display for WheelName {
    /// Formats the canonical file name, including the `.whl` extension.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.distribution, self.version)?;
        if let Some(build) = &self.build {
            write!(f, "-{build}")?;
        }
        let (py, abi, plat) = (&self.python_tag, &self.abi_tag, &self.platform_tag);
        write!(f, "-{py}-{abi}-{plat}.whl")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wheel::testutil::target;
    use pretty_assertions::assert_eq;

    fn parse(s: &str) -> WheelName {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_formats_a_platform_wheel() {
        let n = parse("numpy-2.1.0-cp313-cp313-emscripten_4_0_9_wasm32.whl");
        assert_eq!(n.distribution, "numpy");
        assert_eq!(n.version, "2.1.0");
        assert_eq!(n.build, None);
        assert_eq!(n.platform_tag, "emscripten_4_0_9_wasm32");
        assert_eq!(
            n.to_string(),
            "numpy-2.1.0-cp313-cp313-emscripten_4_0_9_wasm32.whl"
        );
    }

    #[test]
    fn parses_build_tag_and_normalizes_distribution() {
        let n = parse("Foo.Bar__baz-1.0-1local-py3-none-any.whl");
        assert_eq!(n.distribution, "foo_bar_baz");
        assert_eq!(n.build.as_deref(), Some("1local"));
        assert_eq!(n.to_string(), "foo_bar_baz-1.0-1local-py3-none-any.whl");
    }

    #[test]
    fn normalize_follows_pep_503() {
        assert_eq!(normalize("Foo.._Bar-baz"), "foo-bar-baz");
    }

    #[test]
    fn rejects_invalid_names() {
        for bad in [
            "foo-1.0-py3-none-any.zip",
            "foo-1.0-py3-none.whl",
            "foo-1.0-a-b-py3-none-any.whl",
            "foo-1.0-abc-py3-none-any.whl",
            "foo-1.0--none-any.whl",
            "fo o-1.0-py3-none-any.whl",
            // Found by the `wheel` fuzz target: it normalized to an empty name, and the
            // name it printed did not parse.
            "____-1p-3c13-cp3n_2024_0_wawasm-2.whl",
            "_foo-1.0-py3-none-any.whl",
        ] {
            let err = bad.parse::<WheelName>().unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn expands_compressed_tags() {
        let n = parse("six-1.16.0-py2.py3-none-any.whl");
        assert_eq!(n.expanded_tags(), ["py2-none-any", "py3-none-any"]);
    }

    #[test]
    fn retags_platform_wheels_to_the_target() {
        for file in [
            "m-1.0-cp313-cp313-emscripten_4_0_9_wasm32.whl",
            "m-1.0-cp313-cp313-linux_x86_64.whl",
            "m-1.0-py3-none-linux_x86_64.whl",
        ] {
            let got = parse(file).retag(&target(), false).to_string();
            assert_eq!(got, "m-1.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl");
        }
    }

    #[test]
    fn retags_abi3_wheels_keeping_the_python_tag() {
        let n = parse("m-1.0-cp39-abi3-linux_x86_64.whl").retag(&target(), true);
        assert_eq!(
            n.to_string(),
            "m-1.0-cp39-abi3-pyemscripten_2025_0_wasm32.whl"
        );
    }

    #[test]
    fn compatible_wheels_have_no_incompatibility() {
        for file in [
            "m-1.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl",
            "m-1.0-cp39-abi3-pyemscripten_2025_0_wasm32.whl",
            "m-1.0-py2.py3-none-any.whl",
            "m-1.0-py313-none-any.whl",
            "m-1.0-cp313-none-any.whl",
        ] {
            assert_eq!(parse(file).incompatibility(&target()), None, "{file}");
        }
    }

    #[test]
    fn incompatibility_names_the_tags_that_differ() {
        let other_target = parse("m-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl");
        assert_eq!(
            other_target.incompatibility(&target()).unwrap(),
            "Python/ABI tags `cp314-cp314` (the target takes `cp313`) and platform tag \
`pyemscripten_2026_0_wasm32` (the target takes `pyemscripten_2025_0_wasm32`)"
        );
        let platform_only = parse("m-1.0-cp313-cp313-pyodide_2024_0_wasm32.whl");
        let why = platform_only.incompatibility(&target()).unwrap();
        assert!(
            why.starts_with("platform tag `pyodide_2024_0_wasm32`"),
            "{why}"
        );
        let newer_abi3 = parse("m-1.0-cp314-abi3-pyemscripten_2025_0_wasm32.whl");
        let why = newer_abi3.incompatibility(&target()).unwrap();
        assert!(why.starts_with("Python/ABI tags `cp314-abi3`"), "{why}");
    }

    #[test]
    fn pure_wheels_keep_tags_unless_they_carry_extensions() {
        let n = parse("m-1.0-py3-none-any.whl");
        assert_eq!(n.retag(&target(), false), n);
        let got = n.retag(&target(), true).to_string();
        assert_eq!(got, "m-1.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl");
    }
}
