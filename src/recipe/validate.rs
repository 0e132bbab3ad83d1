//! Cross-field checks on `[source]`, producing the validated [`Source`].

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;

use super::error::{Problem, RecipeError, SourceFile};
use super::spec::RawSource;
use super::values::{ExtraPair, PypiPin, Sha256};

/// Where the sources come from and how they are prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The origin of the sources.
    pub kind: SourceKind,
    /// Expected digest of the download; always set for `Url` and `Pypi`.
    pub sha256: Option<Sha256>,
    /// Patches to apply in order, absolute paths.
    pub patches: Vec<PathBuf>,
    /// Files copied into the source tree before building.
    pub extras: Vec<Extra>,
    /// Directory inside the archive holding the sources (`extract-dir`).
    pub extract_dir: Option<String>,
}

/// The origin of the sources: exactly one of `url`, `pypi`, `debian` or `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// An sdist fetched with pip from the user's index.
    Pypi {
        /// The exact `Name==Version` pin.
        pin: PypiPin,
    },
    /// An archive downloaded from a URL.
    Url {
        /// The archive URL.
        url: String,
    },
    /// A local directory or archive.
    Path {
        /// Absolute path to it.
        path: PathBuf,
    },
    /// A Debian source package's upstream tarball, fetched with `apt-get source` from the
    /// machine's configured `deb-src` mirror.
    Debian {
        /// `name=version`, as `apt-get source` takes it.
        package: String,
    },
}

/// One `[from, to]` entry of `extras`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    /// Absolute path of the file in the recipe dir.
    pub from: PathBuf,
    /// Destination, relative to the unpacked source dir.
    pub to: PathBuf,
}

/// What the checks need: the file for error snippets and the recipe dir for paths.
pub(super) struct Checker<'a> {
    /// The recipe file, for located errors.
    pub file: SourceFile<'a>,
    /// The absolute recipe dir that relative paths start from.
    pub dir: &'a Path,
}

impl Checker<'_> {
    /// Validates `[source]`: one origin, a digest for downloads, existing files.
    pub(super) fn source(&self, raw: Spanned<RawSource>) -> Result<Source, RecipeError> {
        let table = raw.span();
        let raw = raw.into_inner();
        let kind = self.kind(&raw, table)?;
        self.unpatched_wheel(&kind, &raw)?;
        let patches = raw.patches.iter().map(|p| self.existing(p, "patch"));
        let extras = raw.extras.iter().map(|e| self.extra(e));
        Ok(Source {
            kind,
            sha256: raw.sha256,
            patches: patches.collect::<Result<_, _>>()?,
            extras: extras.collect::<Result<_, _>>()?,
            extract_dir: raw.extract_dir,
        })
    }

    /// Fails when a prebuilt wheel (`url` ending in `.whl`) has patches or extras, which
    /// apply to sources only (as Pyodide's spec says).
    fn unpatched_wheel(&self, kind: &SourceKind, raw: &RawSource) -> Result<(), RecipeError> {
        let SourceKind::Url { url } = kind else {
            return Ok(());
        };
        let first = raw.patches.first().map(Spanned::span);
        let Some(span) = first.or_else(|| raw.extras.first().map(Spanned::span)) else {
            return Ok(());
        };
        if !url.ends_with(".whl") {
            return Ok(());
        }
        let help =
            "a wheel is used as it is: drop `patches` and `extras`, or point `url` at the sdist";
        Err(self.fail(
            span,
            Problem::new("a wheel source cannot be patched", "on a wheel", help),
        ))
    }

    /// Fails at the second of `url`, `pypi`, `path` when more than one is given.
    fn single_origin(&self, raw: &RawSource) -> Result<(), RecipeError> {
        let given = [
            ("url", raw.url.as_ref().map(Spanned::span)),
            ("pypi", raw.pypi.as_ref().map(Spanned::span)),
            ("path", raw.path.as_ref().map(Spanned::span)),
            ("debian", raw.debian.as_ref().map(Spanned::span)),
        ];
        let given: Vec<_> = given
            .into_iter()
            .filter_map(|(k, s)| Some((k, s?)))
            .collect();
        let [(first, _), (second, span), ..] = given.as_slice() else {
            return Ok(());
        };
        let message = format!("`[source]` has both `{first}` and `{second}`");
        let help = "keep exactly one of `url`, `pypi`, `debian` or `path`";
        Err(self.fail(span.clone(), Problem::new(message, "second source", help)))
    }

    /// Picks the single origin, requiring `sha256` for downloads.
    fn kind(&self, raw: &RawSource, table: Range<usize>) -> Result<SourceKind, RecipeError> {
        self.single_origin(raw)?;
        if let Some(url) = &raw.url {
            self.require_sha256(raw, url.span(), "`sha256sum <downloaded file>`")?;
            return Ok(SourceKind::Url {
                url: url.get_ref().clone(),
            });
        }
        if let Some(pin) = &raw.pypi {
            let how = format!(
                "`pip download --no-deps --no-binary :all: {}` and `sha256sum <file>`",
                pin.get_ref()
            );
            self.require_sha256(raw, pin.span(), &how)?;
            return Ok(SourceKind::Pypi {
                pin: pin.get_ref().clone(),
            });
        }
        if let Some(package) = &raw.debian {
            return self.debian(raw, package);
        }
        match &raw.path {
            Some(path) => Ok(SourceKind::Path {
                path: self.existing(path, "source path")?,
            }),
            None => Err(self.fail(table, no_source())),
        }
    }

    /// A Debian source: `name=version`, and a digest of the upstream tarball.
    fn debian(
        &self,
        raw: &RawSource,
        package: &Spanned<String>,
    ) -> Result<SourceKind, RecipeError> {
        let value = package.get_ref();
        let valid = value.split_once('=').is_some_and(|(name, version)| {
            let ok =
                |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '~' | ':');
            !name.is_empty()
                && !version.is_empty()
                && name.chars().all(ok)
                && version.chars().all(ok)
        });
        if !valid {
            let message = format!("`{value}` is not a Debian source package pin");
            let help = "write `name=version`, e.g. `libyaml=0.2.5-1` (`apt-cache showsrc libyaml`)";
            return Err(self.fail(
                package.span(),
                Problem::new(message, "not `name=version`", help),
            ));
        }
        let how = format!(
            "`apt-get source --download-only {value}` and `sha256sum <name>_<version>.orig.tar.*`"
        );
        self.require_sha256(raw, package.span(), &how)?;
        Ok(SourceKind::Debian {
            package: value.clone(),
        })
    }

    /// Fails at `span` when a download has no `sha256`; `how` tells how to compute it.
    fn require_sha256(
        &self,
        raw: &RawSource,
        span: Range<usize>,
        how: &str,
    ) -> Result<(), RecipeError> {
        if raw.sha256.is_some() {
            return Ok(());
        }
        let help = format!("add `sha256 = \"…\"` to `[source]`; get it with {how}");
        let problem = Problem::new("downloaded source has no `sha256`", "needs a digest", help);
        Err(self.fail(span, problem))
    }

    /// Checks one `extras` pair: the file exists, the destination stays in the source dir.
    fn extra(&self, entry: &Spanned<ExtraPair>) -> Result<Extra, RecipeError> {
        let pair = entry.get_ref();
        let from = self.resolve(&pair.from, entry.span(), "extra file")?;
        let to = PathBuf::from(&pair.to);
        if to
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Ok(Extra { from, to });
        }
        let message = format!("extra destination `{}` leaves the source dir", to.display());
        let help = "give the destination relative to the unpacked source dir, without `..`";
        Err(self.fail(entry.span(), Problem::new(message, "destination", help)))
    }

    /// Resolves a spanned path relative to the recipe dir; it must exist.
    fn existing(&self, rel: &Spanned<String>, what: &str) -> Result<PathBuf, RecipeError> {
        self.resolve(rel.get_ref(), rel.span(), what)
    }

    /// Resolves `rel` against the recipe dir, failing at `span` if it does not exist.
    fn resolve(&self, rel: &str, span: Range<usize>, what: &str) -> Result<PathBuf, RecipeError> {
        if let Ok(path) = self.dir.join(rel).canonicalize() {
            return Ok(path);
        }
        let message = format!("{what} `{rel}` does not exist");
        let help = format!(
            "paths are relative to the recipe dir `{}`",
            self.dir.display()
        );
        Err(self.fail(span, Problem::new(message, "not found", help)))
    }

    /// A located error at `span`.
    fn fail(&self, span: Range<usize>, problem: Problem) -> RecipeError {
        self.file.error(Some(span), problem)
    }
}

/// The problem for a `[source]` table with none of `url`, `pypi`, `path`.
fn no_source() -> Problem {
    Problem::new(
        "`[source]` has no `url`, `pypi`, `debian` or `path`",
        "no source",
        "add one, e.g. `pypi = \"MarkupSafe==2.1.5\"` with its `sha256`",
    )
}
