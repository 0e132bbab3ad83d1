//! The dependency graph of a selection: the selected recipes plus, transitively, the
//! recipes their `requirements.host` and `requirements.run` name, ordered so that every
//! host dependency comes before the recipes that need it.
//!
//! As in Pyodide, only host dependencies order the builds (a package links or imports them
//! while it builds); run dependencies are only added to the set. A cycle through host
//! dependencies is an error; run dependencies may form cycles, as Python packages do.
//!
//! A recipe of the set that does not load is a node without dependencies (they are
//! unknown); the build fails it and skips what needs it.

use std::collections::{BTreeMap, BTreeSet};

use super::{BrokenRecipe, Found, GraphError, RecipeSet};
use crate::recipe::{DependencyKind, Problem, Recipe};
use crate::wheel::normalize;

/// The members of a plan by normalized name.
type Members<'a> = BTreeMap<String, Found<'a>>;

/// One package to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The package name, as its recipe spells it.
    pub name: String,
    /// Its host dependencies: indices of earlier nodes.
    pub host: Vec<usize>,
    /// Whether the selection named it (else a dependency brought it in).
    pub selected: bool,
}

/// The packages to build, host dependencies first.
#[derive(Debug, Clone)]
pub struct Plan {
    nodes: Vec<Node>,
    dependents: Vec<Vec<usize>>,
}

impl Plan {
    /// The plan for `selected` (normalized names of recipes in `set`): the closure over
    /// host and run dependencies, in build order. An unknown dependency or a host cycle is
    /// an error located in the recipe that names it, as is a member two recipes claim.
    pub fn new(set: &RecipeSet, selected: &BTreeSet<String>) -> Result<Self, GraphError> {
        let members = closure(set, selected)?;
        set.check_unique(members.keys())?;
        let order = Order::new(&members).sort()?;
        let index: BTreeMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, key)| (key.as_str(), i))
            .collect();
        let nodes: Vec<Node> = order
            .iter()
            .map(|key| {
                let found = members[key];
                Node {
                    name: found.name().to_string(),
                    host: host_keys(found).map(|dep| index[dep.as_str()]).collect(),
                    selected: selected.contains(key),
                }
            })
            .collect();
        Ok(Plan::from_nodes(nodes))
    }

    /// The recipes `set` read that do not load and that no node of this plan stands for:
    /// nothing the selection needs.
    pub fn unneeded_broken<'s>(&self, set: &'s RecipeSet) -> Vec<&'s BrokenRecipe> {
        let needed: BTreeSet<&std::path::Path> = (self.nodes.iter())
            .filter_map(|node| match set.find(&node.name) {
                Ok(Some(Found::Broken(broken))) => Some(broken.dir()),
                _ => None,
            })
            .collect();
        let unneeded = |broken: &&BrokenRecipe| !needed.contains(broken.dir());
        set.broken().filter(unneeded).collect()
    }

    fn from_nodes(nodes: Vec<Node>) -> Self {
        let mut dependents = vec![Vec::new(); nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            for &dep in &node.host {
                dependents[dep].push(i);
            }
        }
        Plan { nodes, dependents }
    }

    /// The plan of only the nodes `keep` (indices in build order), which must hold the host
    /// dependencies of each of them, as a shard's do.
    pub fn restrict(&self, keep: &[usize]) -> Self {
        let new_index: BTreeMap<usize, usize> = keep
            .iter()
            .enumerate()
            .map(|(new, &old)| (old, new))
            .collect();
        let nodes = keep
            .iter()
            .map(|&old| {
                let node = &self.nodes[old];
                let host = node.host.iter().map(|dep| new_index[dep]).collect();
                Node {
                    host,
                    ..node.clone()
                }
            })
            .collect();
        Plan::from_nodes(nodes)
    }

    /// The packages in build order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The nodes whose host dependencies include node `index`.
    pub fn dependents(&self, index: usize) -> &[usize] {
        &self.dependents[index]
    }
}

/// The normalized names of a member's host dependencies.
fn host_keys<'a>(found: Found<'a>) -> impl Iterator<Item = String> + 'a {
    found
        .dependencies(DependencyKind::Host)
        .iter()
        .map(|dep| normalize(dep))
}

/// The selection plus every recipe reachable through host and run dependencies, each read
/// when it is reached.
fn closure<'a>(set: &'a RecipeSet, selected: &BTreeSet<String>) -> Result<Members<'a>, GraphError> {
    let mut members = Members::new();
    let mut queue = selected.clone();
    while let Some(key) = queue.pop_first() {
        if members.contains_key(&key) {
            continue;
        }
        let found = set.find(&key)?.expect("queued names have recipes");
        members.insert(key, found);
        let Found::Recipe(recipe) = found else {
            continue;
        };
        for kind in [DependencyKind::Host, DependencyKind::Run] {
            for (index, dep) in recipe.dependencies(kind).iter().enumerate() {
                if set.find(dep)?.is_none() {
                    return Err(unknown_dependency(set, recipe, kind, index));
                }
                queue.insert(normalize(dep));
            }
        }
    }
    Ok(members)
}

fn unknown_dependency(
    set: &RecipeSet,
    recipe: &Recipe,
    kind: DependencyKind,
    index: usize,
) -> GraphError {
    let dep = &recipe.dependencies(kind)[index];
    let problem = Problem::new(
        format!(
            "no recipe provides `{dep}`, a `requirements.{kind}` entry of `{}`",
            recipe.name()
        ),
        "unknown dependency",
        set.help_for_unknown(dep),
    );
    recipe.dependency_error(kind, index, problem).into()
}

/// A depth-first topological sort over host dependencies that reports the first cycle.
struct Order<'a> {
    members: &'a Members<'a>,
    done: BTreeSet<String>,
    /// The chain of recipes being visited, each with the host entry followed from it.
    path: Vec<(String, usize)>,
    order: Vec<String>,
}

impl<'a> Order<'a> {
    fn new(members: &'a Members<'a>) -> Self {
        Order {
            members,
            done: BTreeSet::new(),
            path: Vec::new(),
            order: Vec::new(),
        }
    }

    fn sort(mut self) -> Result<Vec<String>, GraphError> {
        for key in self.members.keys() {
            self.visit(key)?;
        }
        Ok(self.order)
    }

    fn visit(&mut self, key: &str) -> Result<(), GraphError> {
        if self.done.contains(key) {
            return Ok(());
        }
        if let Some(start) = self.path.iter().position(|(on_path, _)| on_path == key) {
            return Err(self.cycle(start));
        }
        for (index, dep) in host_keys(self.members[key]).enumerate() {
            self.path.push((key.to_string(), index));
            self.visit(&dep)?;
            self.path.pop();
        }
        self.done.insert(key.to_string());
        self.order.push(key.to_string());
        Ok(())
    }

    /// The error for the cycle that runs from `path[start]` back to it, located at the
    /// host entry that closes it.
    fn cycle(&self, start: usize) -> GraphError {
        let chain = &self.path[start..];
        let mut names: Vec<&str> = chain
            .iter()
            .map(|(key, _)| self.members[key].name())
            .collect();
        names.push(names[0]);
        let (last, index) = chain.last().expect("a cycle has an edge");
        let problem = Problem::new(
            format!("dependency cycle: `{}`", names.join("` → `")),
            "closes the cycle",
            "a recipe cannot need itself, even through others, at build time: remove one of these `requirements.host` entries",
        );
        let Found::Recipe(recipe) = self.members[last] else {
            unreachable!("a broken recipe has no dependencies to follow")
        };
        recipe
            .dependency_error(DependencyKind::Host, *index, problem)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::{render, RecipeDir};

    fn plan(dir: &RecipeDir, selected: &[&str]) -> Result<Plan, GraphError> {
        let selected = selected.iter().map(|name| name.to_string()).collect();
        Plan::new(&dir.load(), &selected)
    }

    fn names(plan: &Plan) -> Vec<&str> {
        plan.nodes().iter().map(|node| node.name.as_str()).collect()
    }

    #[test]
    fn host_dependencies_come_first_and_run_dependencies_join() {
        let dir = RecipeDir::new(&[
            (
                "app",
                "[requirements]\nhost = [\"Lib_B\"]\nrun = [\"six\"]\n",
            ),
            ("lib-b", "[requirements]\nhost = [\"lib-a\"]\n"),
            ("lib-a", ""),
            ("six", "[requirements]\nrun = [\"app\"]\n"),
            ("unrelated", ""),
        ]);
        let plan = plan(&dir, &["app"]).unwrap();
        assert_eq!(names(&plan), ["lib-a", "lib-b", "app", "six"]);
        let app = &plan.nodes()[2];
        assert_eq!(app.host, [1]);
        assert!(app.selected);
        assert!(!plan.nodes()[3].selected, "six came in as a run dependency");
        assert_eq!(plan.dependents(0), [1]);
        assert_eq!(plan.dependents(1), [2]);
        assert!(
            plan.dependents(3).is_empty(),
            "run dependencies order nothing"
        );
    }

    #[test]
    fn unknown_dependency_names_file_line_and_nearest() {
        let dir = RecipeDir::new(&[
            ("app", "[requirements]\nhost = [\"six\"]\nrun = [\"sxi\"]\n"),
            ("six", ""),
        ]);
        let error = plan(&dir, &["app"]).unwrap_err();
        let text = render(&error);
        assert!(text.contains("no recipe provides `sxi`"), "{text}");
        assert!(text.contains("app/recipe.toml:10:8"), "{text}");
        assert!(text.contains("did you mean `six`?"), "{text}");
    }

    #[test]
    fn host_cycle_is_located_where_it_closes() {
        let dir = RecipeDir::new(&[
            ("a", "[requirements]\nhost = [\"b\"]\n"),
            ("b", "[requirements]\nhost = [\"six\", \"a\"]\n"),
            ("six", ""),
        ]);
        let error = plan(&dir, &["a"]).unwrap_err();
        let text = render(&error);
        assert!(text.contains("dependency cycle: `a` → `b` → `a`"), "{text}");
        assert!(text.contains("b/recipe.toml:9:16"), "{text}");
    }

    /// A tree like Pyodide's: `app` needs `Foo-Bar` (in `foo_bar/`) at build time and `baz`
    /// (in `python-baz/`, named otherwise) at run time; `syntax/` and `vars/` do not load.
    fn tree_with_broken_recipes() -> RecipeDir {
        let app = "[requirements]\nhost = [\"Foo-Bar\"]\nrun = [\"baz\"]\n";
        let dir = RecipeDir::new(&[("app", app)]);
        dir.add("foo_bar", "foo.bar", "");
        dir.add("python-baz", "baz", "");
        dir.write("syntax", "[package\nname = \"syntax\"\n");
        dir.add(
            "vars",
            "vars",
            "[build]\ncflags = \"$(NO_SUCH_VARIABLE)\"\n",
        );
        dir
    }

    fn broken_names<'s>(plan: &Plan, set: &'s RecipeSet) -> Vec<&'s str> {
        let broken = plan.unneeded_broken(set);
        broken.into_iter().map(BrokenRecipe::name).collect()
    }

    #[test]
    fn dependencies_are_found_by_any_spelling_despite_unrelated_broken_recipes() {
        let dir = tree_with_broken_recipes();
        let set = dir.load();
        let plan = Plan::new(&set, &["app".to_string()].into()).unwrap();
        assert_eq!(names(&plan), ["foo.bar", "app", "baz"]);
        assert_eq!(plan.nodes()[1].host, [0]);
        // No directory is named `baz`: finding it read every recipe.
        assert_eq!(broken_names(&plan, &set), ["syntax", "vars"]);

        let set = dir.load();
        let plan = Plan::new(&set, &["foo-bar".to_string()].into()).unwrap();
        assert_eq!(names(&plan), ["foo.bar"]);
        assert_eq!(set.broken().count(), 0, "only `foo_bar/` was read");
    }

    #[test]
    fn every_recipe_selects_those_that_load_and_the_others_are_unneeded() {
        let dir = tree_with_broken_recipes();
        let set = dir.load();
        let selected = crate::graph::select(&set, &[crate::graph::Selector::All]).unwrap();
        let plan = Plan::new(&set, &selected).unwrap();
        assert_eq!(names(&plan), ["foo.bar", "app", "baz"]);
        assert_eq!(broken_names(&plan, &set), ["syntax", "vars"]);
        let text = render(&**set.broken().next().unwrap().error());
        assert!(text.contains("syntax/recipe.toml:1:9"), "{text}");
    }

    #[test]
    fn a_needed_broken_recipe_is_a_node_without_dependencies() {
        let dir = tree_with_broken_recipes();
        dir.add("user", "user", "[requirements]\nhost = [\"vars\"]\n");
        let set = dir.load();
        let plan = Plan::new(&set, &["user".to_string()].into()).unwrap();
        assert_eq!(names(&plan), ["vars", "user"]);
        assert!(plan.nodes()[0].host.is_empty());
        assert_eq!(plan.nodes()[1].host, [0]);
        assert!(broken_names(&plan, &set).is_empty(), "`vars` is needed");
        assert!(matches!(set.find("vars"), Ok(Some(Found::Broken(_)))));
    }

    #[test]
    fn a_recipe_needing_itself_is_a_cycle() {
        let dir = RecipeDir::new(&[("a", "[requirements]\nhost = [\"a\"]\n")]);
        let text = render(&plan(&dir, &["a"]).unwrap_err());
        assert!(text.contains("dependency cycle: `a` → `a`"), "{text}");
    }
}
