//! Writing `recipe.toml` text from a tree of tables, keys and values, keeping where each
//! piece came from so that errors found in the text point back at the original file.
//!
//! `meta.yaml` is loaded by writing it out as `recipe.toml` text and loading that with the
//! one TOML path; `emwheel convert` and `emwheel new` write the same text to disk.

use std::ops::Range;

/// A value as `recipe.toml` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// A string; written as a multi-line literal when it has line breaks.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An array of values.
    List(Vec<Node>),
}

/// A value and the place in the original file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// The value.
    pub value: Value,
    /// Byte range in the original file (empty when the value has no origin).
    pub origin: Range<usize>,
}

impl Node {
    /// A string with no origin.
    pub fn str(value: impl Into<String>) -> Self {
        Node {
            value: Value::Str(value.into()),
            origin: 0..0,
        }
    }

    /// An array of strings with no origin.
    pub fn strings<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Self {
        Node {
            value: Value::List(values.into_iter().map(Node::str).collect()),
            origin: 0..0,
        }
    }
}

/// One `[table]` with its keys in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    /// The table name, e.g. `source`.
    pub name: &'static str,
    /// Byte range of the table in the original file.
    pub origin: Range<usize>,
    /// `(key, value)` pairs.
    pub entries: Vec<(&'static str, Node)>,
}

/// Where spans in generated text came from: `(generated range, original range)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SpanMap {
    pairs: Vec<(Range<usize>, Range<usize>)>,
}

impl SpanMap {
    /// The original range for a range of the generated text: that of the smallest recorded
    /// piece holding its start.
    pub fn original(&self, span: Range<usize>) -> Range<usize> {
        self.pairs
            .iter()
            .filter(|(generated, _)| generated.start <= span.start && span.start <= generated.end)
            .min_by_key(|(generated, _)| generated.len())
            .map_or(0..0, |(_, original)| original.clone())
    }

    fn record(&mut self, generated: Range<usize>, original: &Range<usize>) {
        self.pairs.push((generated, original.clone()));
    }
}

/// Renders tables as `recipe.toml` text, skipping empty ones, and maps its spans back.
pub(crate) fn render(tables: &[Table]) -> (String, SpanMap) {
    let mut out = String::new();
    let mut map = SpanMap::default();
    for table in tables.iter().filter(|table| !table.entries.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        let start = out.len();
        out.push_str(&format!("[{}]\n", table.name));
        for (key, node) in &table.entries {
            out.push_str(key);
            out.push_str(" = ");
            write_node(&mut out, &mut map, node, 0);
            out.push('\n');
        }
        map.record(start..out.len(), &table.origin);
    }
    (out, map)
}

/// Arrays longer than this (written on one line) get one item per line.
const LINE_WIDTH: usize = 80;

fn write_node(out: &mut String, map: &mut SpanMap, node: &Node, depth: usize) {
    let start = out.len();
    match &node.value {
        Value::Str(text) => out.push_str(&string(text)),
        Value::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        Value::List(items) => write_list(out, map, items, depth),
    }
    map.record(start..out.len(), &node.origin);
}

fn write_list(out: &mut String, map: &mut SpanMap, items: &[Node], depth: usize) {
    let mut inline = String::new();
    let mut inline_map = SpanMap::default();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            inline.push_str(", ");
        }
        write_node(&mut inline, &mut inline_map, item, depth + 1);
    }
    let multi_line = depth == 0 && (inline.len() > LINE_WIDTH || inline.contains('\n'));
    if !multi_line {
        out.push('[');
        shift(map, inline_map, out.len());
        out.push_str(&inline);
        out.push(']');
        return;
    }
    out.push_str("[\n");
    for item in items {
        out.push_str("    ");
        write_node(out, map, item, depth + 1);
        out.push_str(",\n");
    }
    out.push(']');
}

/// Moves the pairs of a piece written apart into `map`, as if written at `offset`.
fn shift(map: &mut SpanMap, piece: SpanMap, offset: usize) {
    for (generated, original) in piece.pairs {
        map.record(generated.start + offset..generated.end + offset, &original);
    }
}

/// A TOML string: a multi-line literal for text with line breaks (scripts stay verbatim,
/// backslashes included), else a quoted string.
fn string(text: &str) -> String {
    let plain = |c: char| c == '\n' || c == '\t' || !c.is_control();
    if text.contains('\n') && !text.contains("'''") && text.chars().all(plain) {
        // A line break right after the opening quotes is dropped by TOML readers.
        return format!("'''\n{text}'''");
    }
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(value: Value, origin: Range<usize>) -> Node {
        Node { value, origin }
    }

    #[test]
    fn spans_of_generated_text_map_back_to_the_origin() {
        let patches = Value::List(vec![
            node(Value::Str("a.patch".into()), 100..107),
            node(Value::Str("b.patch".into()), 110..117),
        ]);
        let tables = [Table {
            name: "source",
            origin: 90..120,
            entries: vec![("patches", node(patches, 95..120))],
        }];
        let (text, map) = render(&tables);
        assert_eq!(text, "[source]\npatches = [\"a.patch\", \"b.patch\"]\n");
        let second = text.find("\"b.patch").unwrap();
        assert_eq!(map.original(second..second + 9), 110..117);
        assert_eq!(map.original(0..1), 90..120);
    }

    #[test]
    fn multi_line_strings_stay_verbatim_and_read_back() {
        let script = "export A=1 \\\n  B=2\necho \"$A\"\n";
        let tables = [Table {
            name: "build",
            origin: 0..0,
            entries: vec![("script", Node::str(script))],
        }];
        let (text, _) = render(&tables);
        assert!(text.contains("'''\nexport A=1 \\\n"), "{text}");
        let read: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(read["build"]["script"].as_str(), Some(script));
    }

    #[test]
    fn long_arrays_get_one_item_per_line() {
        let names: Vec<String> = (0..12).map(|i| format!("package-{i}")).collect();
        let tables = [Table {
            name: "requirements",
            origin: 0..0,
            entries: vec![("run", Node::strings(names.clone()))],
        }];
        let (text, _) = render(&tables);
        assert!(text.contains("run = [\n    \"package-0\",\n"), "{text}");
        let read: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(read["requirements"]["run"].as_array().unwrap().len(), 12);
    }
}
