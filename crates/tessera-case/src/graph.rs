//! Cycle detection over small integer-indexed graphs (items of one package).

/// Finds cycles in a directed graph given as adjacency lists over `0..n`.
///
/// Returns each cycle found as the list of nodes along it, starting and ending with the same
/// node (`[a, b, c, a]`). Every node is visited once (iterative DFS, no recursion, so a
/// 100,000-deep chain cannot overflow the stack); at most `limit` cycles are returned. A graph
/// with any cycle yields at least one.
pub(crate) fn find_cycles(adjacency: &[Vec<usize>], limit: usize) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let n = adjacency.len();
    let mut mark = vec![Mark::New; n];
    let mut cycles = Vec::new();
    // Stack of (node, index of the next edge to follow).
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..n {
        if mark[start] != Mark::New {
            continue;
        }
        mark[start] = Mark::OnStack;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            let Some(&target) = adjacency[node].get(next) else {
                mark[node] = Mark::Done;
                stack.pop();
                continue;
            };
            top.1 += 1;
            match mark.get(target).copied() {
                Some(Mark::New) => {
                    mark[target] = Mark::OnStack;
                    stack.push((target, 0));
                }
                Some(Mark::OnStack) if cycles.len() < limit => {
                    let from = stack.iter().position(|(v, _)| *v == target).unwrap_or(0);
                    let mut cycle: Vec<usize> = stack[from..].iter().map(|(v, _)| *v).collect();
                    cycle.push(target);
                    cycles.push(cycle);
                }
                _ => {}
            }
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dag_has_no_cycle() {
        let g = vec![vec![1, 2], vec![2], vec![]];
        assert!(find_cycles(&g, 10).is_empty());
    }

    #[test]
    fn a_cycle_is_reported_along_its_path() {
        let g = vec![vec![1], vec![2], vec![0], vec![0]];
        assert_eq!(find_cycles(&g, 10), vec![vec![0, 1, 2, 0]]);
    }

    #[test]
    fn a_self_loop_is_a_cycle() {
        let g = vec![vec![0]];
        assert_eq!(find_cycles(&g, 10), vec![vec![0, 0]]);
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let n = 200_000;
        let mut g: Vec<Vec<usize>> = (0..n).map(|i| vec![i + 1]).collect();
        g[n - 1] = vec![0];
        let cycles = find_cycles(&g, 1);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n + 1);
    }
}
