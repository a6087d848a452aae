//! `cdihub eval`: pairwise and cluster precision, recall and F1 of the stored result against a ground truth,
//! given as a CSV of `source,source_id,cluster` or as a regular expression over source ids.

use crate::config_file;
use anyhow::{Context, Result, bail};
use master::evaluate::{Scores, cluster_scores, true_pairs};
use model::RecordKey;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use store::Store;

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV with a header and the columns source, source_id, cluster.
    #[arg(long, required_unless_present_any = ["truth_regex", "truth_field"])]
    pub truth: Option<PathBuf>,
    /// Derive the true cluster from each source id: the first capture group of this regex (e.g. `^(rec-\d+)`).
    #[arg(long, conflicts_with = "truth")]
    pub truth_regex: Option<String>,
    /// Take the true cluster from this column of the source records themselves (e.g. `cluster`).
    #[arg(long, conflicts_with_all = ["truth", "truth_regex"])]
    pub truth_field: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The evaluation result.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Records scored (in both the truth and the result).
    pub records: u64,
    /// Records in the result that the truth does not mention (left out of the scores).
    pub unlabelled: u64,
    /// Pairs at or above the match threshold.
    pub pairwise: Scores,
    /// Pairs implied by the entities.
    pub cluster: Scores,
}

/// Prints the evaluation.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (config, store) = config_file::load_with_store(config)?;
    let truth = match (&args.truth, &args.truth_regex, &args.truth_field) {
        (Some(path), _, _) => Truth::File(read_truth(path)?),
        (None, Some(pattern), _) => Truth::Regex(regex::Regex::new(pattern).context("--truth-regex")?),
        (None, None, Some(field)) => Truth::File(truth_from_field(&store, field)?),
        (None, None, None) => bail!("give --truth FILE, --truth-regex REGEX or --truth-field COLUMN"),
    };
    let e = evaluate(&store, &truth, config.master.match_threshold)?;
    if args.json {
        println!("{}", serde_json::to_string(&e)?);
    } else {
        print(&e);
    }
    Ok(())
}

/// Prints an evaluation as a small table.
pub fn print(e: &Evaluation) {
    println!("evaluated {} records ({} without a true label were left out)", e.records, e.unlabelled);
    println!("{:<10} {:>10} {:>10} {:>10}", "", "precision", "recall", "F1");
    for (name, s) in [("pairwise", &e.pairwise), ("cluster", &e.cluster)] {
        println!("{name:<10} {:>10.4} {:>10.4} {:>10.4}", s.precision, s.recall, s.f1);
    }
}

/// Where the true clusters come from.
pub enum Truth {
    /// Key → cluster label.
    File(HashMap<RecordKey, String>),
    /// Cluster label = first capture group of the source id.
    Regex(regex::Regex),
}

impl Truth {
    fn label(&self, key: &RecordKey) -> Option<String> {
        match self {
            Truth::File(map) => map.get(key).cloned(),
            Truth::Regex(re) => re.captures(&key.source_id).and_then(|c| c.get(1)).map(|m| m.as_str().to_string()),
        }
    }
}

/// Reads a truth CSV.
pub fn read_truth(path: &Path) -> Result<HashMap<RecordKey, String>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader.headers()?.clone();
    let col = |name: &str| {
        header.iter().position(|h| h.trim() == name).with_context(|| format!("{}: no `{name}` column", path.display()))
    };
    let (s, i, c) = (col("source")?, col("source_id")?, col("cluster")?);
    let mut truth = HashMap::new();
    for (n, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{} row {}", path.display(), n + 2))?;
        let get = |k: usize| row.get(k).unwrap_or_default().trim().to_string();
        truth.insert(RecordKey::new(get(s), get(i)), get(c));
    }
    Ok(truth)
}

/// Reads the true cluster of every record from one of its own raw columns.
pub fn truth_from_field(store: &dyn Store, field: &str) -> Result<HashMap<RecordKey, String>> {
    let mut truth = HashMap::new();
    store.for_each_raw(&mut |key, fields| {
        if let Some(label) = fields.get(field).filter(|l| !l.trim().is_empty()) {
            truth.insert(key.clone(), label.trim().to_string());
        }
        Ok(())
    })?;
    if truth.is_empty() {
        bail!("no stored record has a `{field}` column");
    }
    Ok(truth)
}

/// Scores the stored memberships and pairs against the truth.
pub fn evaluate(store: &dyn Store, truth: &Truth, threshold: f64) -> Result<Evaluation> {
    let mut labelled: Vec<(u64, String)> = Vec::new();
    let mut label_of: HashMap<RecordKey, String> = HashMap::new();
    let mut unlabelled = 0u64;
    store.for_each_membership(&mut |key, entity| {
        match truth.label(key) {
            Some(label) => {
                labelled.push((entity.0, label.clone()));
                label_of.insert(key.clone(), label);
            }
            None => unlabelled += 1,
        }
        Ok(())
    })?;
    if labelled.is_empty() {
        bail!("no resolved record has a true label: check the truth file's source names and ids");
    }
    let actual = true_pairs(labelled.iter().map(|(_, t)| t.as_str()));
    let cluster = cluster_scores(labelled.iter().map(|(e, t)| (*e, t.as_str())));
    let mut tp = 0u64;
    let mut predicted = 0u64;
    for p in store.pairs("all", usize::MAX >> 1)?.into_iter().filter(|p| p.probability >= threshold) {
        if let (Some(a), Some(b)) = (label_of.get(&p.a), label_of.get(&p.b)) {
            predicted += 1;
            tp += u64::from(a == b);
        }
    }
    Ok(Evaluation { records: labelled.len() as u64, unlabelled, pairwise: Scores::new(tp, predicted, actual), cluster })
}
