//! Reading Pyodide's `meta.yaml` as a recipe: every key of its spec (pyodide-build's
//! `recipe/spec.py`) is either loaded into its `recipe.toml` twin, accepted as metadata with no
//! effect on a build, or refused by name. The result is `recipe.toml` text that the one TOML
//! path validates, with a map back to `meta.yaml` for errors.
//!
//! Parsed with saphyr: YAML 1.2 like Pyodide's ruamel loader (so `yes` stays a string), a
//! start and end marker on every node, and duplicate keys refused.

use std::ops::Range;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::document::{self, Node, SpanMap, Table, Value};
use super::error::{nearest, Problem, RecipeError, SourceFile};

/// The file name of a Pyodide recipe.
pub const META_FILE: &str = "meta.yaml";

/// What emwheel does with one `meta.yaml` key.
#[derive(Debug, Clone, Copy)]
enum Key {
    /// Loaded into this `recipe.toml` key of the same table.
    Into(&'static str),
    /// Metadata for Pyodide's own tooling, with no effect on a build: accepted, not kept.
    Inert,
    /// A Pyodide feature emwheel lacks: an error naming the key, with this reason.
    Unsupported(&'static str),
}

use Key::{Inert, Into, Unsupported};

/// The tables of `meta.yaml` with their keys, in the order `recipe.toml` is written.
const TABLES: &[(&str, &[(&str, Key)])] = &[
    (
        "package",
        &[
            ("name", Into("name")),
            ("version", Into("version")),
            ("top-level", Into("top-level")),
            ("tag", Into("tag")),
            ("pinned", Inert),
            ("_disabled", Unsupported("emwheel has no disabled recipes; move the recipe out of the recipe dir instead")),
        ],
    ),
    (
        "source",
        &[
            ("url", Into("url")),
            ("path", Into("path")),
            ("sha256", Into("sha256")),
            ("patches", Into("patches")),
            ("extras", Into("extras")),
            ("extract_dir", Into("extract-dir")),
        ],
    ),
    (
        "build",
        &[
            ("type", Into("type")),
            ("script", Into("script")),
            ("cross-script", Into("cross-script")),
            ("post", Into("post")),
            ("cflags", Into("cflags")),
            ("cxxflags", Into("cxxflags")),
            ("ldflags", Into("ldflags")),
            ("backend-flags", Into("backend-flags")),
            ("exports", Into("exports")),
            ("unvendor-tests", Into("unvendor-tests")),
            ("vendor-sharedlib", Into("vendor-sharedlib")),
            ("_retain-test-patterns", Unsupported("emwheel does not unvendor tests by pattern")),
            ("cross-build-env", Into("cross-build-env")),
            ("_cross-build-env-skip-install", Unsupported("emwheel always lays a cross-build package's files over the host's install of it")),
            ("cross-build-files", Into("cross-build-files")),
        ],
    ),
    (
        "requirements",
        &[
            ("host", Into("host")),
            ("run", Into("run")),
            ("executable", Into("executable")),
            ("constraint", Into("constraint")),
            ("build-extras", Unsupported("emwheel installs exactly the backend's build requirements; add extra ones to the source's `pyproject.toml` with a patch")),
        ],
    ),
    ("test", &[("imports", Into("imports"))]),
    (
        "about",
        &[
            ("home", Into("home")),
            ("PyPI", Into("PyPI")),
            ("summary", Into("summary")),
            ("license", Into("license")),
        ],
    ),
];

/// `extra` holds free-form metadata (`recipe-maintainers`); Pyodide accepts any key in it.
const FREE_FORM_TABLE: &str = "extra";

/// Help shown under every `meta.yaml` error.
const SPEC_HELP: &str = "meta.yaml follows Pyodide's recipe spec";

/// `meta.yaml` as `recipe.toml` text, and the map from that text back to the YAML.
pub(super) struct Translated {
    /// The equivalent `recipe.toml` text.
    pub toml: String,
    /// Spans of `toml` mapped to spans of the YAML text.
    pub spans: SpanMap,
}

/// Translates `meta.yaml` text into `recipe.toml` text; `file` is the YAML, for errors.
pub(super) fn translate(file: &SourceFile) -> Result<Translated, RecipeError> {
    let reader = Reader::new(file);
    let root = reader.parse()?;
    let tables = reader.tables(&root)?;
    let (toml, spans) = document::render(&tables);
    Ok(Translated { toml, spans })
}

/// Walks the YAML tree, turning character markers into byte offsets.
struct Reader<'a> {
    file: &'a SourceFile<'a>,
    /// Byte offset of each character, and the text's length at the end.
    offsets: Vec<usize>,
}

impl<'a> Reader<'a> {
    fn new(file: &'a SourceFile<'a>) -> Self {
        let text = file.text;
        let offsets = text
            .char_indices()
            .map(|(byte, _)| byte)
            .chain([text.len()])
            .collect();
        Reader { file, offsets }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.offsets
            .get(char_index)
            .copied()
            .unwrap_or(self.file.text.len())
    }

    fn span(&self, node: &MarkedYaml) -> Range<usize> {
        self.byte(node.span.start.index())..self.byte(node.span.end.index())
    }

    fn fail(&self, span: Range<usize>, problem: Problem) -> RecipeError {
        self.file.error(Some(span), problem)
    }

    /// The single document, which must be a mapping.
    fn parse(&self) -> Result<MarkedYaml<'a>, RecipeError> {
        let documents = MarkedYaml::load_from_str(self.file.text).map_err(|error| {
            let at = self.byte(error.marker().index());
            let message = format!("invalid YAML: {}", error.info());
            self.fail(at..at, Problem::new(message, "here", SPEC_HELP))
        })?;
        match documents.into_iter().next() {
            Some(root) if matches!(root.data, YamlData::Mapping(_)) => Ok(root),
            other => {
                let span = other.map_or(0..0, |node| self.span(&node));
                let help = "start with `package:` holding `name` and `version`";
                Err(self.fail(
                    span,
                    Problem::new("meta.yaml is not a mapping", "here", help),
                ))
            }
        }
    }

    /// The known tables in `recipe.toml` order, refusing unknown ones.
    fn tables(&self, root: &MarkedYaml) -> Result<Vec<Table>, RecipeError> {
        let entries = self.mapping(root, "meta.yaml")?;
        let mut names: Vec<&str> = TABLES.iter().map(|(name, _)| *name).collect();
        names.push(FREE_FORM_TABLE);
        for (key, _) in &entries {
            if !names.contains(&key.1.as_str()) {
                return Err(self.unknown(key, "", &names));
            }
        }
        for required in ["package", "source"] {
            if !entries.iter().any(|(key, _)| key.1 == required) {
                let problem = Problem::new(
                    format!("missing `{required}`"),
                    "in this file",
                    format!("add a `{required}:` mapping; {SPEC_HELP}"),
                );
                return Err(self.fail(0..0, problem));
            }
        }
        let mut tables = Vec::new();
        for (name, keys) in TABLES {
            if let Some((_, node)) = entries.iter().find(|(key, _)| key.1 == *name) {
                tables.push(self.table(name, keys, node)?);
            }
        }
        if let Some((_, extra)) = entries.iter().find(|(key, _)| key.1 == FREE_FORM_TABLE) {
            self.mapping(extra, FREE_FORM_TABLE)?;
        }
        Ok(tables)
    }

    /// One table: each key loaded, accepted or refused, in the schema's order.
    fn table(
        &self,
        name: &'static str,
        keys: &[(&str, Key)],
        node: &MarkedYaml,
    ) -> Result<Table, RecipeError> {
        let entries = self.mapping(node, name)?;
        let valid: Vec<&str> = keys.iter().map(|(key, _)| *key).collect();
        for (key, value) in &entries {
            match keys.iter().find(|(known, _)| *known == key.1) {
                None => return Err(self.unknown(key, name, &valid)),
                Some((_, Unsupported(why))) => return Err(self.unsupported(key, name, why, value)),
                Some(_) => {}
            }
        }
        let mut table = Table {
            name,
            origin: self.span(node),
            entries: Vec::new(),
        };
        for (yaml_key, key) in keys {
            let Into(toml_key) = key else { continue };
            let found = entries.iter().find(|(key, _)| key.1 == *yaml_key);
            if let Some((_, value)) = found {
                if let Some(value) = self.value(value)? {
                    table.entries.push((toml_key, value));
                }
            }
        }
        Ok(table)
    }

    /// The `(key span, key)` and value pairs of a mapping; `null` is an empty mapping.
    #[allow(clippy::type_complexity)]
    fn mapping<'n>(
        &self,
        node: &'n MarkedYaml<'a>,
        what: &str,
    ) -> Result<Vec<((Range<usize>, String), &'n MarkedYaml<'a>)>, RecipeError> {
        match &node.data {
            YamlData::Mapping(map) => Ok(map
                .iter()
                .map(|(key, value)| ((self.span(key), self.scalar_text(key)), value))
                .collect()),
            YamlData::Value(Scalar::Null) => Ok(Vec::new()),
            _ => {
                let message = format!("`{what}` is not a mapping");
                let help = format!("write `{what}:` followed by indented `key: value` lines");
                Err(self.fail(self.span(node), Problem::new(message, "here", help)))
            }
        }
    }

    /// A key or scalar as written (numbers keep their spelling: `2.10` stays `2.10`).
    fn scalar_text(&self, node: &MarkedYaml) -> String {
        match &node.data {
            YamlData::Value(Scalar::String(text)) => text.to_string(),
            _ => self.file.text[self.span(node)].trim().to_string(),
        }
    }

    /// A value as `recipe.toml` holds it; `None` for `null` (the key's default).
    fn value(&self, node: &MarkedYaml) -> Result<Option<Node>, RecipeError> {
        let value = match &node.data {
            YamlData::Value(Scalar::Null) => return Ok(None),
            YamlData::Value(Scalar::Boolean(value)) => Value::Bool(*value),
            YamlData::Value(_) => Value::Str(self.scalar_text(node)),
            YamlData::Sequence(items) => {
                let mut list = Vec::new();
                for item in items {
                    match self.value(item)? {
                        Some(value) => list.push(value),
                        None => list.push(Node {
                            value: Value::Str(String::new()),
                            origin: self.span(item),
                        }),
                    }
                }
                Value::List(list)
            }
            _ => {
                let help = "write a string, a boolean or a list here";
                let problem = Problem::new("unexpected mapping", "here", help);
                return Err(self.fail(self.span(node), problem));
            }
        };
        Ok(Some(Node {
            value,
            origin: self.span(node),
        }))
    }

    fn unknown(
        &self,
        (span, key): &(Range<usize>, String),
        table: &str,
        valid: &[&str],
    ) -> RecipeError {
        let list = valid
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let place = if table.is_empty() { "meta.yaml" } else { table };
        let help = match nearest(key, valid) {
            Some(near) => format!("did you mean `{near}`? valid keys in `{place}`: {list}"),
            None => format!("valid keys in `{place}`: {list}"),
        };
        let problem = Problem::new(
            format!("unknown key `{}`", dotted(table, key)),
            "unknown key",
            help,
        );
        self.fail(span.clone(), problem)
    }

    fn unsupported(
        &self,
        (span, key): &(Range<usize>, String),
        table: &str,
        why: &str,
        value: &MarkedYaml,
    ) -> RecipeError {
        let message = format!("`{}` is not supported by emwheel", dotted(table, key));
        let help = format!("{why}; remove the key to build without it");
        let whole = span.start..self.span(value).end.max(span.end);
        self.fail(whole, Problem::new(message, "unsupported", help))
    }
}

/// `table.key`, or `key` at the top level.
fn dotted(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}
