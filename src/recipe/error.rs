//! Recipe errors: unreadable files, and problems located in `recipe.toml`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use super::document::SpanMap;
use super::values::split_help;

/// Why a recipe could not be loaded.
#[derive(Debug, Error, Diagnostic)]
pub enum RecipeError {
    /// The recipe file could not be read.
    #[error("cannot read recipe `{}`", path.display())]
    #[diagnostic(
        code(emwheel::recipe::read),
        help("pass a recipe directory holding `recipe.toml` or `meta.yaml`, or that file itself")
    )]
    Read {
        /// The file that was tried.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A directory holds both formats.
    #[error("`{}` holds both `recipe.toml` and `meta.yaml`", dir.display())]
    #[diagnostic(
        code(emwheel::recipe::two_formats),
        help("keep one: after `emwheel convert`, delete `meta.yaml`")
    )]
    TwoFormats {
        /// The recipe directory.
        dir: PathBuf,
    },
    /// The file was read but is not a valid recipe.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidRecipe>),
}

/// A problem at a place in `recipe.toml`, shown with the offending line.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(emwheel::recipe::invalid))]
pub struct InvalidRecipe {
    pub(super) message: String,
    #[source_code]
    pub(super) src: NamedSource<String>,
    #[label("{label}")]
    pub(super) span: Option<SourceSpan>,
    pub(super) label: String,
    #[help]
    pub(super) help: String,
}

impl RecipeError {
    /// Where the error is, in one line: `file:line:column` for a problem at a place in a
    /// file, else the file or directory concerned.
    pub fn location(&self) -> String {
        match self {
            RecipeError::Read { path, .. } => path.display().to_string(),
            RecipeError::TwoFormats { dir } => dir.display().to_string(),
            RecipeError::Invalid(invalid) => match invalid.line_col() {
                Some((line, column)) => format!("{}:{line}:{column}", invalid.src.name()),
                None => invalid.src.name().to_string(),
            },
        }
    }
}

impl InvalidRecipe {
    /// The one-based line and column where the label points, if it points anywhere.
    pub(super) fn line_col(&self) -> Option<(usize, usize)> {
        let offset = self.span?.offset();
        let before = self.src.inner().get(..offset)?;
        let line = before.matches('\n').count() + 1;
        let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Some((line, column))
    }
}

/// What went wrong, before it is tied to a place in the file.
#[derive(Debug)]
pub struct Problem {
    message: String,
    label: String,
    help: String,
}

impl Problem {
    /// A problem with its message, the label under the span, and the help line.
    pub fn new(
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self {
            message: message.into(),
            label: label.into(),
            help: help.into(),
        }
    }
}

/// The text of a recipe file, used to attach source snippets to errors.
pub(super) struct SourceFile<'a> {
    /// The path shown in diagnostics.
    pub path: &'a Path,
    /// The file's contents.
    pub text: &'a str,
    /// When the text parsed is not `text` but generated from it (`meta.yaml` read as
    /// `recipe.toml`), the map from spans of the generated text back to `text`.
    pub spans: Option<&'a SpanMap>,
}

impl SourceFile<'_> {
    /// Ties `problem` to `span` of this file.
    pub(super) fn error(&self, span: Option<Range<usize>>, problem: Problem) -> RecipeError {
        let span = match (span, self.spans) {
            (Some(span), Some(map)) => Some(map.original(span)),
            (span, _) => span,
        };
        let src = NamedSource::new(self.path.display().to_string(), self.text.to_owned());
        RecipeError::Invalid(Box::new(InvalidRecipe {
            message: problem.message,
            src,
            span: span.map(SourceSpan::from),
            label: problem.label,
            help: problem.help,
        }))
    }

    /// Turns a TOML parse or deserialize error into a located recipe error.
    pub(super) fn toml_error(&self, err: &toml::de::Error) -> RecipeError {
        let at_root = err.span().is_none_or(|span| span.is_empty());
        self.error(err.span(), explain(err.message(), at_root))
    }
}

/// Rewrites a toml/serde message into a problem with a useful help line.
///
/// `at_root` tells that the error has no place in a table, so a missing key is a table.
fn explain(message: &str, at_root: bool) -> Problem {
    if let Some((message, help)) = split_help(message) {
        return Problem::new(message, "invalid value", help);
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return unknown("key", rest);
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return unknown("value", rest);
    }
    if let Some(key) = message.strip_prefix("missing field ") {
        return missing(key, at_root);
    }
    if let Some((_, expected)) = message.split_once(", expected ") {
        // serde's word for a TOML array means nothing to someone writing a recipe.
        let help = match expected {
            "a sequence" => "write a list here, e.g. `[\"…\"]`".to_string(),
            other => format!("write {other} here"),
        };
        return Problem::new(message, "wrong type", help);
    }
    let help = "recipe.toml is TOML whose tables and keys mirror Pyodide's `meta.yaml`";
    Problem::new(message, "here", help)
}

/// Explains a missing key; `key` is still in backticks.
fn missing(key: &str, at_root: bool) -> Problem {
    if at_root {
        let table = key.trim_matches('`');
        return Problem::new(
            format!("missing table `[{table}]`"),
            "here",
            format!("add a `[{table}]` table"),
        );
    }
    Problem::new(
        format!("missing key {key}"),
        "in this table",
        format!("add {key} to this table"),
    )
}

/// Explains serde's "unknown field/variant `x`, expected `a`, `b`" with the nearest name.
fn unknown(what: &str, rest: &str) -> Problem {
    let mut names = rest.split('`').skip(1).step_by(2);
    let given = names.next().unwrap_or_default();
    let valid: Vec<&str> = names.collect();
    let list = valid
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let help = match nearest(given, &valid) {
        Some(near) => format!("did you mean `{near}`? valid {what}s: {list}"),
        None => format!("valid {what}s: {list}"),
    };
    Problem::new(
        format!("unknown {what} `{given}`"),
        format!("unknown {what}"),
        help,
    )
}

/// The candidate closest to `given`, if it is close enough to be a typo.
pub fn nearest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let given = given.to_lowercase();
    let limit = (given.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&given, &c.to_lowercase()), *c))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}
