//! Which recipes to build: names, `*`, `tag:<tag>`, and `!<name>` to leave one out.

use std::collections::BTreeSet;

use super::{listing, GraphError, RecipeSet};
use crate::recipe::Recipe;
use crate::wheel::normalize;

/// One word of a selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `*`: every recipe.
    All,
    /// `tag:<tag>`: recipes whose `[package] tag` holds it.
    Tag(String),
    /// A recipe name.
    Name(String),
    /// `!<name>`: not this recipe (it is still built when a selected recipe needs it).
    Exclude(String),
}

impl Selector {
    fn parse(word: &str) -> Result<Self, GraphError> {
        let bad = || GraphError::BadSelector {
            word: word.to_string(),
        };
        let named = |name: &str| {
            let valid = !name.is_empty() && !name.contains(['*', ':', '!', ' ']);
            valid.then(|| name.to_string()).ok_or_else(bad)
        };
        if word == "*" {
            return Ok(Selector::All);
        }
        if let Some(tag) = word.strip_prefix("tag:") {
            return named(tag).map(Selector::Tag);
        }
        if let Some(name) = word.strip_prefix('!') {
            return named(name).map(Selector::Exclude);
        }
        named(word).map(Selector::Name)
    }
}

/// Parses selection arguments; like Pyodide's `--packages`, one argument may hold several
/// words separated by commas.
pub fn parse_selection(args: &[String]) -> Result<Vec<Selector>, GraphError> {
    args.iter()
        .flat_map(|arg| arg.split(','))
        .map(str::trim)
        .filter(|word| !word.is_empty())
        .map(Selector::parse)
        .collect()
}

/// The normalized names a selection picks: everything its names, tags and `*` match, minus
/// its exclusions. A name or tag that matches nothing is an error, as is an empty result.
///
/// Names are looked up on their own; `*` and tags read every recipe, and pick only those
/// that load (the others are [`RecipeSet::broken`]). A name may pick a broken recipe: the
/// build then fails that package.
pub fn select(set: &RecipeSet, selectors: &[Selector]) -> Result<BTreeSet<String>, GraphError> {
    let mut chosen = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    for selector in selectors {
        match selector {
            Selector::All => chosen.extend(set.iter().map(key)),
            Selector::Tag(tag) => chosen.extend(tagged(set, tag)?),
            Selector::Name(name) => drop(chosen.insert(known(set, name)?)),
            Selector::Exclude(name) => drop(excluded.insert(known(set, name)?)),
        }
    }
    let selected: BTreeSet<String> = chosen.difference(&excluded).cloned().collect();
    if selected.is_empty() {
        let names = listing(set.iter().map(Recipe::name));
        let help = format!(
            "recipes in `{}`: {names}; `*` selects them all{}",
            set.dir().display(),
            set.broken_note()
        );
        return Err(GraphError::EmptySelection { help });
    }
    Ok(selected)
}

fn key(recipe: &Recipe) -> String {
    normalize(recipe.name())
}

/// The normalized name of an existing recipe, broken or not.
fn known(set: &RecipeSet, name: &str) -> Result<String, GraphError> {
    match set.find(name)? {
        Some(_) => Ok(normalize(name)),
        None => Err(GraphError::UnknownName {
            name: name.to_string(),
            dir: set.dir().to_path_buf(),
            help: set.help_for_unknown(name),
        }),
    }
}

fn tagged(set: &RecipeSet, tag: &str) -> Result<Vec<String>, GraphError> {
    let has_tag = |recipe: &&Recipe| recipe.package().tag.iter().any(|t| t == tag);
    let matched: Vec<String> = set.iter().filter(has_tag).map(key).collect();
    if !matched.is_empty() {
        return Ok(matched);
    }
    let tags: BTreeSet<&str> = set
        .iter()
        .flat_map(|recipe| recipe.package().tag.iter().map(String::as_str))
        .collect();
    Err(GraphError::UnknownTag {
        tag: tag.to_string(),
        help: format!("tags in use: {}", listing(tags)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::RecipeDir;

    fn words(args: &[&str]) -> Vec<Selector> {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        parse_selection(&args).unwrap()
    }

    #[test]
    fn words_parse_into_selectors() {
        assert_eq!(
            words(&["*", "tag:core,!six", " attrs "]),
            [
                Selector::All,
                Selector::Tag("core".into()),
                Selector::Exclude("six".into()),
                Selector::Name("attrs".into()),
            ]
        );
        for bad in ["tag:", "!", "a*", "!tag:x", "x y"] {
            let error = parse_selection(&[bad.to_string()]).unwrap_err();
            assert!(matches!(error, GraphError::BadSelector { .. }), "{bad}");
        }
    }

    /// Three recipes, two tagged `core`.
    fn three() -> RecipeDir {
        let dir = RecipeDir::new(&[("six", ""), ("attrs", "")]);
        dir.add("markupsafe", "MarkupSafe", "");
        dir.tag("six", "core");
        dir.tag("markupsafe", "core");
        dir
    }

    fn chosen(dir: &RecipeDir, args: &[&str]) -> Vec<String> {
        select(&dir.load(), &words(args))
            .unwrap()
            .into_iter()
            .collect()
    }

    #[test]
    fn names_tags_all_and_exclusions_combine() {
        let dir = three();
        assert_eq!(chosen(&dir, &["*"]), ["attrs", "markupsafe", "six"]);
        assert_eq!(chosen(&dir, &["tag:core"]), ["markupsafe", "six"]);
        assert_eq!(chosen(&dir, &["*", "!Six"]), ["attrs", "markupsafe"]);
        assert_eq!(chosen(&dir, &["attrs,MarkupSafe"]), ["attrs", "markupsafe"]);
    }

    #[test]
    fn all_and_tags_pick_recipes_that_load_and_a_name_picks_any() {
        let dir = three();
        dir.write("broken", "[package\n");
        assert_eq!(chosen(&dir, &["*"]), ["attrs", "markupsafe", "six"]);
        assert_eq!(chosen(&dir, &["tag:core"]), ["markupsafe", "six"]);
        assert_eq!(chosen(&dir, &["Broken", "six"]), ["broken", "six"]);
        assert_eq!(
            chosen(&dir, &["*", "!broken"]),
            ["attrs", "markupsafe", "six"]
        );
        let error = select(&dir.load(), &words(&["six", "!six"])).unwrap_err();
        let text = crate::graph::testutil::render(&error);
        assert!(
            text.contains("recipes that do not load: `broken`"),
            "{text}"
        );
    }

    #[test]
    fn unknown_names_and_tags_and_empty_selections_say_what_exists() {
        let dir = three();
        let set = dir.load();
        let error = select(&set, &words(&["sx"])).unwrap_err();
        let text = crate::graph::testutil::render(&error);
        assert!(text.contains("no recipe `sx`"), "{text}");
        assert!(text.contains("did you mean `six`?"), "{text}");
        let error = select(&set, &words(&["tag:cor"])).unwrap_err();
        assert!(crate::graph::testutil::render(&error).contains("tags in use: `core`"));
        let error = select(&set, &words(&["six", "!six"])).unwrap_err();
        let text = crate::graph::testutil::render(&error);
        assert!(text.contains("matches no recipe"), "{text}");
        assert!(text.contains("`attrs`, `MarkupSafe`, `six`"), "{text}");
    }
}
