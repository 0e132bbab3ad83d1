//! The dependency graph of a selection: the selected recipes plus, transitively, the
//! recipes their `requirements.host` and `requirements.run` name, ordered so that every
//! host dependency comes before the recipes that need it.
//!
//! As in Pyodide, only host dependencies order the builds (a package links or imports them
//! while it builds); run dependencies are only added to the set. A cycle through host
//! dependencies is an error; run dependencies may form cycles, as Python packages do.

use std::collections::{BTreeMap, BTreeSet};

use super::{GraphError, RecipeSet};
use crate::recipe::{DependencyKind, Problem, Recipe};
use crate::wheel::normalize;

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
    /// The plan for `selected` (normalized names): the closure over host and run
    /// dependencies, in build order. An unknown dependency or a host cycle is an error
    /// located in the recipe that names it.
    pub fn new(set: &RecipeSet, selected: &BTreeSet<String>) -> Result<Self, GraphError> {
        let members = closure(set, selected)?;
        let order = Order::new(set, &members).sort()?;
        let index: BTreeMap<&str, usize> = order
            .iter()
            .enumerate()
            .map(|(i, key)| (key.as_str(), i))
            .collect();
        let nodes: Vec<Node> = order
            .iter()
            .map(|key| {
                let recipe = set.get(key).expect("members have recipes");
                Node {
                    name: recipe.name().to_string(),
                    host: host_keys(recipe).map(|dep| index[dep.as_str()]).collect(),
                    selected: selected.contains(key),
                }
            })
            .collect();
        Ok(Plan::from_nodes(nodes))
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

/// The normalized names of a recipe's host dependencies.
fn host_keys(recipe: &Recipe) -> impl Iterator<Item = String> + '_ {
    recipe
        .dependencies(DependencyKind::Host)
        .iter()
        .map(|dep| normalize(dep))
}

/// The selection plus every recipe reachable through host and run dependencies.
fn closure(set: &RecipeSet, selected: &BTreeSet<String>) -> Result<BTreeSet<String>, GraphError> {
    let mut members = BTreeSet::new();
    let mut queue = selected.clone();
    while let Some(key) = queue.pop_first() {
        if !members.insert(key.clone()) {
            continue;
        }
        let recipe = set.get(&key).expect("queued names have recipes");
        for kind in [DependencyKind::Host, DependencyKind::Run] {
            for (index, dep) in recipe.dependencies(kind).iter().enumerate() {
                if set.get(dep).is_none() {
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
    set: &'a RecipeSet,
    members: &'a BTreeSet<String>,
    done: BTreeSet<String>,
    /// The chain of recipes being visited, each with the host entry followed from it.
    path: Vec<(String, usize)>,
    order: Vec<String>,
}

impl<'a> Order<'a> {
    fn new(set: &'a RecipeSet, members: &'a BTreeSet<String>) -> Self {
        Order {
            set,
            members,
            done: BTreeSet::new(),
            path: Vec::new(),
            order: Vec::new(),
        }
    }

    fn sort(mut self) -> Result<Vec<String>, GraphError> {
        for key in self.members {
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
        let recipe = self.set.get(key).expect("members have recipes");
        for (index, dep) in host_keys(recipe).enumerate() {
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
        let name = |key: &str| self.set.get(key).expect("on the path").name().to_string();
        let mut names: Vec<String> = chain.iter().map(|(key, _)| name(key)).collect();
        names.push(names[0].clone());
        let (last, index) = chain.last().expect("a cycle has an edge");
        let problem = Problem::new(
            format!("dependency cycle: `{}`", names.join("` → `")),
            "closes the cycle",
            "a recipe cannot need itself, even through others, at build time: remove one of these `requirements.host` entries",
        );
        let recipe = self.set.get(last).expect("on the path");
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

    #[test]
    fn a_recipe_needing_itself_is_a_cycle() {
        let dir = RecipeDir::new(&[("a", "[requirements]\nhost = [\"a\"]\n")]);
        let text = render(&plan(&dir, &["a"]).unwrap_err());
        assert!(text.contains("dependency cycle: `a` → `a`"), "{text}");
    }
}
