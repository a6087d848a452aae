//! Clustering accepted pairs into entities: union–find over pairs in descending probability, guarded against
//! chaining. Before two clusters join, their cross pairs are scored; if one is strongly non-matching (below the
//! guard threshold) and they do not on average say "same", the join is vetoed, so "H. de Vries" cannot bridge
//! Henk and Hanna de Vries. Pairs a steward pinned apart (cannot-link) never end in one cluster, whatever joins
//! them, deterministic rules included; pairs pinned together (must-link) are passed in as forced edges.
use rayon::prelude::*;
use std::collections::HashMap;

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
///
/// Records that no joining edge (forced, or at or above the threshold) connects, even through others, can never
/// meet: the guard and the pins only look inside the two clusters a join would merge. So each connected component
/// of the joining edges is clustered on its own, in parallel, taking its edges in the same order as one pass over
/// all of them would — the result is the same.
pub fn cluster(
    n: usize,
    edges: &[Edge],
    threshold: f64,
    guard: f64,
    apart: &[(u32, u32)],
    score: impl Fn(u32, u32) -> f64 + Sync,
) -> Clustering {
    let partners = partners_of(apart);
    let joining = joining_edges(edges, threshold);
    let parts = Components::of(n, edges, &joining);
    // Each component's edges and records, cut out of the flat arrays, with room for what becomes of them.
    let mut outcomes_flat = vec![EdgeOutcome::Below; parts.edges.len()];
    let mut roots_flat = vec![0u32; parts.records.len()];
    let mut work = Vec::with_capacity(parts.len());
    let (mut edges_left, mut records_left) = (parts.edges.as_slice(), parts.records.as_slice());
    let (mut outcomes_left, mut roots_left) = (outcomes_flat.as_mut_slice(), roots_flat.as_mut_slice());
    for c in 0..parts.len() {
        let (ne, nr) = (parts.edge_count(c), parts.record_count(c));
        let (e, rest) = edges_left.split_at(ne);
        edges_left = rest;
        let (r, rest) = records_left.split_at(nr);
        records_left = rest;
        let (o, rest) = std::mem::take(&mut outcomes_left).split_at_mut(ne);
        outcomes_left = rest;
        let (t, rest) = std::mem::take(&mut roots_left).split_at_mut(nr);
        roots_left = rest;
        work.push((e, r, o, t));
    }
    let context = Context { edges, guard, partners: &partners, local: &parts.local, score: &score };
    work.into_par_iter().for_each(|(e, r, o, t)| match e {
        [only] => context.join_pair(r, *only, o, t),
        _ => context.join_in_order(r, e, o, t),
    });
    let mut root_of: Vec<u32> = (0..n as u32).collect();
    for (record, root) in parts.records.iter().zip(&roots_flat) {
        root_of[*record as usize] = *root;
    }
    clustering(&root_of, edges.len(), &parts.edges, &outcomes_flat)
}

/// Each record's partners in the pairs pinned apart (both ways round).
fn partners_of(apart: &[(u32, u32)]) -> HashMap<u32, Vec<u32>> {
    let mut partners: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(x, y) in apart {
        partners.entry(x).or_default().push(y);
        partners.entry(y).or_default().push(x);
    }
    partners
}

/// Indices of the edges that may join two clusters: forced ones, and those at or above the threshold.
fn joining_edges(edges: &[Edge], threshold: f64) -> Vec<u32> {
    (0..edges.len() as u32)
        .filter(|&i| edges[i as usize].forced || edges[i as usize].probability >= threshold)
        .collect()
}

/// The clustering of records whose roots are `root_of` (a root is its own), numbered in order of each cluster's
/// smallest record, with `outcomes` for the edges at `decided` (of `n_edges`; the others stayed below).
fn clustering(root_of: &[u32], n_edges: usize, decided: &[u32], outcomes: &[EdgeOutcome]) -> Clustering {
    let mut all = vec![EdgeOutcome::Below; n_edges];
    for (edge, outcome) in decided.iter().zip(outcomes) {
        all[*edge as usize] = *outcome;
    }
    let mut dense = vec![u32::MAX; root_of.len()];
    let mut cluster_of = vec![0u32; root_of.len()];
    let mut next = 0u32;
    for (i, root) in root_of.iter().enumerate() {
        let root = *root as usize;
        if dense[root] == u32::MAX {
            dense[root] = next;
            next += 1;
        }
        cluster_of[i] = dense[root];
    }
    Clustering { cluster_of, n_clusters: next as usize, outcomes: all }
}

/// The connected components of the joining edges, as flat arrays grouped by component: their edge indices (in
/// input order) and their records (in order of first appearance), plus each record's index within its component.
struct Components {
    edges: Vec<u32>,
    edge_start: Vec<usize>,
    records: Vec<u32>,
    record_start: Vec<usize>,
    /// Per record: its place in its component's records (`u32::MAX` for records in none).
    local: Vec<u32>,
}

impl Components {
    /// The components that the `joining` edges (indices into `edges`) make of `n` records.
    fn of(n: usize, edges: &[Edge], joining: &[u32]) -> Components {
        let mut parent: Vec<u32> = (0..n as u32).collect();
        for &i in joining {
            let e = edges[i as usize];
            let (ra, rb) = (find(&mut parent, e.a), find(&mut parent, e.b));
            if ra != rb {
                parent[ra.max(rb) as usize] = ra.min(rb);
            }
        }
        // Components numbered in order of their first joining edge.
        let mut number = vec![u32::MAX; n];
        let mut of_edge = Vec::with_capacity(joining.len());
        let mut edge_start = vec![0usize];
        for &i in joining {
            let root = find(&mut parent, edges[i as usize].a) as usize;
            if number[root] == u32::MAX {
                number[root] = (edge_start.len() - 1) as u32;
                edge_start.push(0);
            }
            of_edge.push(number[root]);
            edge_start[number[root] as usize + 1] += 1;
        }
        for c in 1..edge_start.len() {
            edge_start[c] += edge_start[c - 1];
        }
        let mut flat = vec![0u32; joining.len()];
        let mut fill = edge_start.clone();
        for (&i, &c) in joining.iter().zip(&of_edge) {
            flat[fill[c as usize]] = i;
            fill[c as usize] += 1;
        }
        // Records by component, each once, in the order its component's edges name them.
        let mut local = vec![u32::MAX; n];
        let mut records = Vec::new();
        let mut record_start = Vec::with_capacity(edge_start.len());
        for c in 0..edge_start.len() - 1 {
            record_start.push(records.len());
            for &i in &flat[edge_start[c]..edge_start[c + 1]] {
                let e = edges[i as usize];
                for r in [e.a, e.b] {
                    if local[r as usize] == u32::MAX {
                        local[r as usize] = (records.len() - record_start[c]) as u32;
                        records.push(r);
                    }
                }
            }
        }
        record_start.push(records.len());
        Components { edges: flat, edge_start, records, record_start, local }
    }

    fn len(&self) -> usize {
        self.edge_start.len() - 1
    }

    fn edge_count(&self, c: usize) -> usize {
        self.edge_start[c + 1] - self.edge_start[c]
    }

    fn record_count(&self, c: usize) -> usize {
        self.record_start[c + 1] - self.record_start[c]
    }
}

/// What clustering one component reads.
struct Context<'a, S> {
    edges: &'a [Edge],
    guard: f64,
    partners: &'a HashMap<u32, Vec<u32>>,
    local: &'a [u32],
    score: &'a S,
}

impl<S: Fn(u32, u32) -> f64> Context<'_, S> {
    /// Clusters a component of one edge (most are one pair): two records on their own, which the guard never
    /// stops and only a pin keeps apart.
    fn join_pair(&self, records: &[u32], edge: u32, outcomes: &mut [EdgeOutcome], roots: &mut [u32]) {
        let e = self.edges[edge as usize];
        let apart = self.partners.get(&e.b).is_some_and(|p| p.contains(&e.a));
        outcomes[0] = if apart { EdgeOutcome::Apart } else { EdgeOutcome::Accepted };
        for (root, r) in roots.iter_mut().zip(records) {
            *root = if apart { *r } else { e.a };
        }
    }

    /// Clusters one component: `records` (global indices; `local` gives each one's place here) joined by `edges`
    /// (indices of joining edges). Sets each edge's outcome and each record's root (a global index).
    fn join_in_order(&self, records: &[u32], edges: &[u32], outcomes: &mut [EdgeOutcome], roots: &mut [u32]) {
        let local = |r: u32| self.local[r as usize];
        let mut order: Vec<usize> = (0..edges.len()).collect();
        order.sort_by(|&x, &y| {
            let (ex, ey) = (&self.edges[edges[x] as usize], &self.edges[edges[y] as usize]);
            ey.forced.cmp(&ex.forced).then(ey.probability.total_cmp(&ex.probability)).then(edges[x].cmp(&edges[y]))
        });
        let mut parent: Vec<u32> = (0..records.len() as u32).collect();
        // Members of each root; a record still on its own has an empty list.
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); records.len()];
        let score = |x: u32, y: u32| (self.score)(records[x as usize], records[y as usize]);
        for k in order {
            let e = self.edges[edges[k] as usize];
            let (ra, rb) = (find(&mut parent, local(e.a)), find(&mut parent, local(e.b)));
            if ra == rb {
                outcomes[k] = EdgeOutcome::Accepted;
                continue;
            }
            for root in [ra, rb] {
                if members[root as usize].is_empty() {
                    members[root as usize].push(root);
                }
            }
            let (big, small) =
                if members[ra as usize].len() >= members[rb as usize].len() { (ra, rb) } else { (rb, ra) };
            if !self.partners.is_empty() && self.pinned_apart(records, &members[small as usize], big, &mut parent) {
                outcomes[k] = EdgeOutcome::Apart;
                continue;
            }
            if !e.forced && contradicts(&members[ra as usize], &members[rb as usize], self.guard, &score) {
                outcomes[k] = EdgeOutcome::Vetoed;
                continue;
            }
            let moved = std::mem::take(&mut members[small as usize]);
            members[big as usize].extend(moved);
            parent[small as usize] = big;
            outcomes[k] = EdgeOutcome::Accepted;
        }
        for i in 0..records.len() as u32 {
            roots[i as usize] = records[find(&mut parent, i) as usize];
        }
    }

    /// True when a record of `small` is pinned apart from a record of the cluster whose root is `big` (all local).
    fn pinned_apart(&self, records: &[u32], small: &[u32], big: u32, parent: &mut [u32]) -> bool {
        let partners = small.iter().filter_map(|x| self.partners.get(&records[*x as usize])).flatten();
        // A partner in another component (or in none) is in no cluster here.
        let here = |p: u32| Some(self.local[p as usize]).filter(|l| records.get(*l as usize) == Some(&p));
        partners.filter_map(|p| here(*p)).any(|p| find(parent, p) == big)
    }
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

    /// One pass over every joining edge of the whole graph, as a single component: what clustering did before
    /// components were split off.
    fn one_pass(
        n: usize,
        edges: &[Edge],
        threshold: f64,
        apart: &[(u32, u32)],
        score: &impl Fn(u32, u32) -> f64,
    ) -> Clustering {
        let partners = partners_of(apart);
        let joining = joining_edges(edges, threshold);
        let records: Vec<u32> = (0..n as u32).collect();
        let context = Context { edges, guard: 0.01, partners: &partners, local: &records, score };
        let mut outcomes = vec![EdgeOutcome::Below; joining.len()];
        let mut roots = vec![0u32; n];
        context.join_in_order(&records, &joining, &mut outcomes, &mut roots);
        clustering(&roots, edges.len(), &joining, &outcomes)
    }

    proptest::proptest! {
        #[test]
        fn components_cluster_as_one_pass_does(
            n in 2usize..40,
            raw in proptest::collection::vec((0u32..40, 0u32..40, 0u32..100, 0u32..20), 1..80),
            pins in proptest::collection::vec((0u32..40, 0u32..40), 0..4),
            salt in 0u64..1000,
        ) {
            let n32 = n as u32;
            let edges: Vec<Edge> = raw
                .iter()
                .filter(|(a, b, _, _)| a % n32 != b % n32)
                .map(|&(a, b, p, f)| Edge { a: a % n32, b: b % n32, probability: f64::from(p) / 100.0, forced: f == 0 })
                .collect();
            let apart: Vec<(u32, u32)> =
                pins.iter().map(|&(x, y)| (x % n32, y % n32)).filter(|(x, y)| x != y).collect();
            // Some pairs strongly non-matching, so the guard has something to veto.
            let score = |x: u32, y: u32| {
                let h = (u64::from(x.min(y)) * 31 + u64::from(x.max(y)) * 17 + salt) % 10;
                [0.001, 0.2, 0.6, 0.9, 0.95, 0.97, 0.99, 0.999, 0.3, 0.005][h as usize]
            };
            let split = cluster(n, &edges, 0.5, 0.01, &apart, score);
            let whole = one_pass(n, &edges, 0.5, &apart, &score);
            proptest::prop_assert_eq!(&split.outcomes, &whole.outcomes);
            proptest::prop_assert_eq!(&split.cluster_of, &whole.cluster_of);
            proptest::prop_assert_eq!(split.n_clusters, whole.n_clusters);
        }
    }
}
