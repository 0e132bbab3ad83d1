//! Splitting a plan into `n` balanced shards for CI jobs: a package always lands in the same
//! shard as its host dependencies (each connected component of the host-dependency graph
//! stays whole), and components go, largest first, to the lightest shard. The split depends
//! only on the plan, so every job computes the same one.

use std::fmt;
use std::str::FromStr;

use super::Plan;

/// `--shard i/n`: the `i`-th (1-based) of `n` shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1 to `count`.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

/// A `--shard` value that is not `i/n` with `1 <= i <= n`.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
// The fix is in the message: clap shows only the message of a value it cannot parse.
#[error(
    "`{value}` is not a shard ({reason}): pass `--shard i/n` with 1 <= i <= n, e.g. `--shard 2/3` for the second of three jobs"
)]
pub struct BadShard {
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for Shard {
    type Err = BadShard;

    fn from_str(value: &str) -> Result<Self, BadShard> {
        let bad = |reason| BadShard {
            value: value.to_string(),
            reason,
        };
        let (index, count) = value.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let number = |text: &str| text.trim().parse::<usize>().map_err(|_| bad("not numbers"));
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 || index == 0 {
            return Err(bad("shards are counted from 1"));
        }
        if index > count {
            return Err(bad("the shard is past the count"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Which nodes of `plan` belong to `shard`, in the plan's order.
pub fn shard_nodes(plan: &Plan, shard: Shard) -> Vec<usize> {
    let mut components = components(plan);
    // Largest first; ties by first node (the plan's order is deterministic).
    components.sort_by_key(|members| (std::cmp::Reverse(members.len()), members[0]));
    let mut loads = vec![0usize; shard.count];
    let mut owner = vec![0usize; plan.nodes().len()];
    for members in &components {
        let lightest = (0..shard.count)
            .min_by_key(|&s| (loads[s], s))
            .expect("count >= 1");
        loads[lightest] += members.len();
        for &node in members {
            owner[node] = lightest;
        }
    }
    (0..plan.nodes().len())
        .filter(|&node| owner[node] == shard.index - 1)
        .collect()
}

/// The connected components of the host-dependency graph (edges taken both ways), each
/// sorted, found with a union-find.
fn components(plan: &Plan) -> Vec<Vec<usize>> {
    let count = plan.nodes().len();
    let mut parent: Vec<usize> = (0..count).collect();
    fn root(parent: &mut [usize], mut node: usize) -> usize {
        while parent[node] != node {
            parent[node] = parent[parent[node]];
            node = parent[node];
        }
        node
    }
    for (node, entry) in plan.nodes().iter().enumerate() {
        for &dep in &entry.host {
            let (a, b) = (root(&mut parent, node), root(&mut parent, dep));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for node in 0..count {
        let top = root(&mut parent, node);
        groups.entry(top).or_default().push(node);
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::{render, RecipeDir};

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for (bad, why) in [
            ("4/3", "past the count"),
            ("0/3", "from 1"),
            ("1/0", "from 1"),
            ("x", "no `/`"),
            ("a/b", "not numbers"),
        ] {
            let text = render(&bad.parse::<Shard>().unwrap_err());
            assert!(text.contains(&format!("`{bad}` is not a shard")), "{text}");
            assert!(text.contains(why), "{text}");
            assert!(text.contains("--shard 2/3"), "{text}");
        }
    }

    fn names(plan: &Plan, shard: &str) -> Vec<String> {
        let nodes = shard_nodes(plan, shard.parse().unwrap());
        nodes
            .iter()
            .map(|&i| plan.nodes()[i].name.clone())
            .collect()
    }

    #[test]
    fn host_components_stay_whole_and_shards_balance() {
        let dir = RecipeDir::new(&[
            ("app", "[requirements]\nhost = [\"lib-b\"]\n"),
            ("lib-b", "[requirements]\nhost = [\"lib-a\"]\n"),
            ("tool", "[requirements]\nhost = [\"lib-a\"]\n"),
            ("lib-a", ""),
            ("one", ""),
            ("two", ""),
            ("three", ""),
        ]);
        let set = dir.load();
        let all = set.iter().map(|r| r.name().to_string()).collect();
        let plan = Plan::new(&set, &all).unwrap();
        let first = names(&plan, "1/3");
        assert_eq!(first.len(), 4, "{first:?}");
        for name in ["app", "lib-a", "lib-b", "tool"] {
            assert!(first.contains(&name.to_string()), "{first:?}");
        }
        let (second, third) = (names(&plan, "2/3"), names(&plan, "3/3"));
        assert_eq!(second.len() + third.len(), 3);
        assert!(second.len().abs_diff(third.len()) <= 1);
        assert_eq!(second, names(&plan, "2/3"), "deterministic");
        let mut union = [first, second, third].concat();
        union.sort();
        union.dedup();
        assert_eq!(union.len(), 7);
    }
}
