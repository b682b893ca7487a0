//! The prerequisite graph: a directed graph that must stay acyclic.
//!
//! An edge `(a, b)` means "a precedes b" (a is a prerequisite of b). When the store is about to
//! change prerequisites it loads the edges that could take part in a cycle, applies the change
//! here, and writes only if [`find_cycle`] finds none.

use std::collections::{BTreeMap, BTreeSet};

/// Finds a cycle among `edges`, if there is one, and returns its nodes in edge order with the
/// first node repeated at the end (`[a, b, a]` for `a → b → a`). Deterministic: the same edges
/// always give the same cycle.
pub fn find_cycle<N: Ord + Clone>(edges: &[(N, N)]) -> Option<Vec<N>> {
    let mut adjacency: BTreeMap<&N, BTreeSet<&N>> = BTreeMap::new();
    for (from, to) in edges {
        adjacency.entry(from).or_default().insert(to);
        adjacency.entry(to).or_default();
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks: BTreeMap<&N, Mark> = adjacency.keys().map(|n| (*n, Mark::New)).collect();
    let starts: Vec<&N> = adjacency.keys().copied().collect();
    for start in starts {
        if marks.get(start) != Some(&Mark::New) {
            continue;
        }
        // Iterative depth-first search (a deep chain must not overflow the stack): the path and,
        // per node on it, the successors still to visit.
        let mut path: Vec<&N> = vec![start];
        let mut pending: Vec<Vec<&N>> = vec![adjacency[start].iter().rev().copied().collect()];
        marks.insert(start, Mark::OnPath);
        while let Some(next) = pending.last_mut() {
            match next.pop() {
                Some(node) => match marks.get(node).copied().unwrap_or(Mark::New) {
                    Mark::OnPath => {
                        let at = path.iter().position(|n| *n == node).unwrap_or(0);
                        let mut cycle: Vec<N> = path[at..].iter().map(|n| (*n).clone()).collect();
                        cycle.push(node.clone());
                        return Some(cycle);
                    }
                    Mark::Done => {}
                    Mark::New => {
                        marks.insert(node, Mark::OnPath);
                        path.push(node);
                        pending.push(adjacency[node].iter().rev().copied().collect());
                    }
                },
                None => {
                    pending.pop();
                    if let Some(done) = path.pop() {
                        marks.insert(done, Mark::Done);
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acyclic_graph_has_no_cycle() {
        let edges = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")];
        assert_eq!(find_cycle(&edges), None);
    }

    #[test]
    fn a_two_node_cycle_is_named_in_order() {
        let edges = [("C.4", "C.2"), ("C.2", "C.4"), ("C.1", "C.2")];
        let cycle = find_cycle(&edges).unwrap();
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 3);
        assert!(cycle.contains(&"C.4") && cycle.contains(&"C.2"));
        assert!(!cycle.contains(&"C.1"));
    }

    #[test]
    fn a_self_loop_is_a_cycle() {
        assert_eq!(find_cycle(&[("x", "x")]), Some(vec!["x", "x"]));
    }

    #[test]
    fn every_consecutive_pair_of_a_found_cycle_is_an_edge() {
        let edges = [(1, 2), (2, 3), (3, 4), (4, 2), (5, 1)];
        let cycle = find_cycle(&edges).unwrap();
        for pair in cycle.windows(2) {
            assert!(
                edges.contains(&(pair[0], pair[1])),
                "{pair:?} is not an edge"
            );
        }
        assert_eq!(cycle, vec![2, 3, 4, 2]);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let mut edges: Vec<(u32, u32)> = (0..200_000).map(|i| (i, i + 1)).collect();
        assert_eq!(find_cycle(&edges), None);
        edges.push((200_000, 0));
        assert_eq!(find_cycle(&edges).map(|c| c.len()), Some(200_002));
    }
}
