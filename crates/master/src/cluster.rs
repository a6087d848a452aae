//! Clustering accepted pairs into entities: union–find over pairs in descending probability, guarded against
//! chaining. Before two clusters join, their cross pairs are scored; if one is strongly non-matching (below the
//! guard threshold) and they do not on average say "same", the join is vetoed, so "H. de Vries" cannot bridge
//! Henk and Hanna de Vries. Pairs a steward pinned apart (cannot-link) never end in one cluster, whatever joins
//! them, deterministic rules included; pairs pinned together (must-link) are passed in as forced edges.
/// A pair that may join two clusters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// First record index.
    pub a: u32,
    /// Second record index.
    pub b: u32,
    /// Match probability.
    pub probability: f64,
    /// Set when a deterministic rule made the match (never vetoed).
    pub forced: bool,
}

/// What happened to each edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeOutcome {
    /// Joined two clusters, or fell inside one.
    Accepted,
    /// Below the match threshold.
    Below,
    /// Vetoed by the anti-chaining guard.
    Vetoed,
    /// Would have joined records pinned apart.
    Apart,
}

/// Clusters plus the fate of every edge.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// Dense cluster number per record, numbered in order of each cluster's smallest record.
    pub cluster_of: Vec<u32>,
    /// Number of clusters.
    pub n_clusters: usize,
    /// Outcome per input edge, same order.
    pub outcomes: Vec<EdgeOutcome>,
}

/// Most cross pairs checked before a join; larger joins check an even sample.
const GUARD_BUDGET: usize = 256;

/// Clusters `n` records. `score(x, y)` gives the match probability of any pair (used by the guard); no two
/// records of an `apart` pair end in one cluster.
pub fn cluster(
    n: usize,
    edges: &[Edge],
    threshold: f64,
    guard: f64,
    apart: &[(u32, u32)],
    score: impl Fn(u32, u32) -> f64,
) -> Clustering {
    let mut partners: std::collections::HashMap<u32, Vec<u32>> = std::collections::HashMap::new();
    for &(x, y) in apart {
        partners.entry(x).or_default().push(y);
        partners.entry(y).or_default().push(x);
    }
    let mut parent: Vec<u32> = (0..n as u32).collect();
    // Members of each root; a record still on its own has an empty list (most do, and stay so: no allocation).
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut order: Vec<usize> = (0..edges.len()).collect();
    order.sort_by(|&x, &y| {
        let (ex, ey) = (&edges[x], &edges[y]);
        ey.forced.cmp(&ex.forced).then(ey.probability.total_cmp(&ex.probability)).then(x.cmp(&y))
    });
    let mut outcomes = vec![EdgeOutcome::Below; edges.len()];
    for i in order {
        let e = edges[i];
        if !e.forced && e.probability < threshold {
            continue;
        }
        let (ra, rb) = (find(&mut parent, e.a), find(&mut parent, e.b));
        if ra == rb {
            outcomes[i] = EdgeOutcome::Accepted;
            continue;
        }
        for root in [ra, rb] {
            if members[root as usize].is_empty() {
                members[root as usize].push(root);
            }
        }
        let (big, small) = if members[ra as usize].len() >= members[rb as usize].len() { (ra, rb) } else { (rb, ra) };
        if !partners.is_empty() && pinned_apart(&members[small as usize], big, &partners, &mut parent) {
            outcomes[i] = EdgeOutcome::Apart;
            continue;
        }
        if !e.forced && contradicts(&members[ra as usize], &members[rb as usize], guard, &score) {
            outcomes[i] = EdgeOutcome::Vetoed;
            continue;
        }
        let moved = std::mem::take(&mut members[small as usize]);
        members[big as usize].extend(moved);
        parent[small as usize] = big;
        outcomes[i] = EdgeOutcome::Accepted;
    }
    let mut dense = vec![u32::MAX; n];
    let mut cluster_of = vec![0u32; n];
    let mut next = 0u32;
    for i in 0..n as u32 {
        let root = find(&mut parent, i) as usize;
        if dense[root] == u32::MAX {
            dense[root] = next;
            next += 1;
        }
        cluster_of[i as usize] = dense[root];
    }
    Clustering { cluster_of, n_clusters: next as usize, outcomes }
}

/// True when some cross pair of the two clusters is strongly non-matching and the cross pairs do not, on
/// average, say "same" (mean probability below one half). A record bridging two people always has a
/// contradicting cross pair against one side's only record; two groups of one person's records, of which one
/// odd pair disagrees (a typo on both sides), still join.
fn contradicts(x: &[u32], y: &[u32], guard: f64, score: &impl Fn(u32, u32) -> f64) -> bool {
    let total = x.len() * y.len();
    if total == 1 {
        return false;
    }
    let step = total.div_ceil(GUARD_BUDGET).max(1);
    let (mut sum, mut count, mut against) = (0.0, 0usize, false);
    for k in (0..total).step_by(step) {
        let p = score(x[k / y.len()], y[k % y.len()]);
        against |= p < guard;
        sum += p;
        count += 1;
    }
    against && sum < 0.5 * count as f64
}

/// True when a record of `small` is pinned apart from a record of the cluster whose root is `big`.
fn pinned_apart(
    small: &[u32],
    big: u32,
    partners: &std::collections::HashMap<u32, Vec<u32>>,
    parent: &mut [u32],
) -> bool {
    small.iter().filter_map(|x| partners.get(x)).flatten().any(|p| find(parent, *p) == big)
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(a: u32, b: u32, probability: f64) -> Edge {
        Edge { a, b, probability, forced: false }
    }

    #[test]
    fn connected_components_above_threshold() {
        let edges = [edge(0, 1, 0.99), edge(1, 2, 0.95), edge(3, 4, 0.5)];
        let c = cluster(5, &edges, 0.9, 0.001, &[], |_, _| 0.5);
        assert_eq!(c.cluster_of, vec![0, 0, 0, 1, 2]);
        assert_eq!(c.n_clusters, 3);
        assert_eq!(c.outcomes[2], EdgeOutcome::Below);
    }

    #[test]
    fn guard_stops_a_weak_bridge() {
        // 1 is "H. de Vries": matches Henk (0) and Hanna (2), but Henk and Hanna strongly differ.
        let edges = [edge(0, 1, 0.99), edge(1, 2, 0.97)];
        let score = |x: u32, y: u32| {
            if (x.min(y), x.max(y)) == (0, 2) { 1e-6 } else { 0.98 }
        };
        let c = cluster(3, &edges, 0.9, 0.001, &[], score);
        assert_eq!(c.cluster_of, vec![0, 0, 1]);
        assert_eq!(c.outcomes, vec![EdgeOutcome::Accepted, EdgeOutcome::Vetoed]);
        // A deterministic rule joins first and is never vetoed; the guard then keeps Henk apart from Hanna.
        let forced = [edge(0, 1, 0.99), Edge { forced: true, ..edge(1, 2, 0.97) }];
        let c = cluster(3, &forced, 0.9, 0.001, &[], score);
        assert_eq!(c.cluster_of, vec![0, 1, 1]);
        assert_eq!(c.outcomes, vec![EdgeOutcome::Vetoed, EdgeOutcome::Accepted]);
    }

    #[test]
    fn records_pinned_apart_never_join() {
        // 0–1–2 chain strongly, and a deterministic rule joins 2 and 3; 0 and 2 are pinned apart, and so are 1
        // and 3.
        let edges = [edge(0, 1, 0.99), edge(1, 2, 0.98), Edge { forced: true, ..edge(2, 3, 1.0) }];
        let c = cluster(4, &edges, 0.9, 0.001, &[(2, 0), (1, 3)], |_, _| 0.9);
        assert_eq!(c.cluster_of, vec![0, 0, 1, 1]);
        assert_eq!(c.outcomes, vec![EdgeOutcome::Accepted, EdgeOutcome::Apart, EdgeOutcome::Accepted]);
    }
}
