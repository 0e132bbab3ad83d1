//! Single-value newtypes checked while deserializing, so errors point at the value.

use std::fmt;

use serde::Deserialize;

/// Separates the message from the help line inside a serde custom error.
const HELP_SEPARATOR: &str = "\nhelp: ";

/// A value in `recipe.toml` that failed its check; displays as message, then a help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    message: String,
    help: &'static str,
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{HELP_SEPARATOR}{}", self.message, self.help)
    }
}

impl std::error::Error for InvalidValue {}

/// Splits a message produced by [`InvalidValue`]'s `Display` back into message and help.
pub(super) fn split_help(message: &str) -> Option<(&str, &str)> {
    message.split_once(HELP_SEPARATOR)
}

/// Implements `Display` for string newtypes through their `as_str`.
macro_rules! display_as_str {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

/// A SHA-256 digest written as 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Sha256(String);

impl Sha256 {
    /// The digest as 64 lowercase hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `digest` (raw bytes, e.g. from `sha2`) equals this digest.
    pub fn matches_digest(&self, digest: &[u8]) -> bool {
        hex::encode(digest) == self.0
    }
}

impl TryFrom<String> for Sha256 {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let lower_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if value.len() != 64 || !value.chars().all(lower_hex) {
            return Err(not_a(&value, "a sha256 digest", SHA256_HELP));
        }
        Ok(Self(value))
    }
}

/// A distribution name made of PEP 508 name characters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PackageName(String);

impl PackageName {
    /// The name as written in the recipe.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PackageName {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if !is_pep508_name(&value) {
            return Err(not_a(&value, "a valid package name", NAME_HELP));
        }
        Ok(Self(value))
    }
}

/// An exact PyPI pin, `Name==Version`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PypiPin {
    pin: String,
    split: usize,
}

impl PypiPin {
    /// The whole pin, `Name==Version`, as handed to pip.
    pub fn as_str(&self) -> &str {
        &self.pin
    }

    /// The distribution name before `==`.
    pub fn name(&self) -> &str {
        &self.pin[..self.split]
    }

    /// The exact version after `==`.
    pub fn version(&self) -> &str {
        &self.pin[self.split + 2..]
    }
}

impl TryFrom<String> for PypiPin {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let exact = |&i: &usize| is_pep508_name(&value[..i]) && is_exact_version(&value[i + 2..]);
        match value.find("==").filter(exact) {
            Some(split) => Ok(Self { pin: value, split }),
            None => Err(not_a(&value, "an exact pin", PIN_HELP)),
        }
    }
}

/// A path inside a wheel (`numpy/_core/include/numpy/numpyconfig.h`): relative, `/`-separated,
/// with no `.`, `..` or empty component, so it can never point outside the wheel's tree.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct WheelPath(String);

impl WheelPath {
    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WheelPath {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let plain = |part: &str| !matches!(part, "" | "." | "..") && !part.contains('\\');
        if value.split('/').all(plain) {
            Ok(Self(value))
        } else {
            Err(not_a(
                &value,
                "a relative path inside the wheel",
                WHEEL_PATH_HELP,
            ))
        }
    }
}

display_as_str!(Sha256, PackageName, PypiPin, WheelPath);

/// One `[from, to]` entry of `extras`, before the paths are checked.
#[derive(Debug, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub(super) struct ExtraPair {
    pub from: String,
    pub to: String,
}

impl TryFrom<Vec<String>> for ExtraPair {
    type Error = InvalidValue;

    fn try_from(pair: Vec<String>) -> Result<Self, Self::Error> {
        match <[String; 2]>::try_from(pair) {
            Ok([from, to]) => Ok(Self { from, to }),
            Err(pair) => Err(InvalidValue {
                message: format!("`extras` entry has {} items, not 2", pair.len()),
                help: EXTRA_HELP,
            }),
        }
    }
}

/// Help for a malformed `extras` entry.
const EXTRA_HELP: &str = "write `[\"file in the recipe dir\", \"destination in the source dir\"]`";
/// Help for a malformed `sha256`.
const SHA256_HELP: &str = "give 64 lowercase hex characters, as printed by `sha256sum <file>`";
/// Help for a malformed package name.
const NAME_HELP: &str =
    "use letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit";
/// Help for a `pypi` value that is not an exact pin.
const PIN_HELP: &str = "pin one release as `Name==Version`, e.g. `MarkupSafe==2.1.5`";

/// Help for a malformed `cross-build-files` entry.
const WHEEL_PATH_HELP: &str =
    "name a file as it lies in the built wheel, e.g. `numpy/_core/include/numpy/numpyconfig.h`";

/// Reports that `value` is not `what`.
fn not_a(value: &str, what: &str, help: &'static str) -> InvalidValue {
    InvalidValue {
        message: format!("`{value}` is not {what}"),
        help,
    }
}

/// PEP 508 names: ASCII letters and digits, with `.`, `_`, `-` inside.
fn is_pep508_name(name: &str) -> bool {
    let inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(inner)
}

/// A single version: PEP 440 characters only, so no operators, wildcards or spaces.
fn is_exact_version(version: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '!');
    version.starts_with(|c: char| c.is_ascii_alphanumeric()) && version.chars().all(allowed)
}
