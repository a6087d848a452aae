//! The batch pipeline as the commands and the demo run it: ingest (connect → clean → store) and resolve
//! (store → master → store).

use crate::config_file::now;
use crate::golden_chunks;
use crate::progress;
use anyhow::{Context, Result};
use connect::{ColumnSlots, RowError};
use master::features::{FeatureBuilder, Features, identifier_names};
use master::layout::Layout;
use master::resolve::Decision;
use master::survive::{Member, Rules, golden_view};
use model::{CleanRecord, Config, RecordKey, SourceConfig, SourceRecord};
use rayon::prelude::*;
use serde::Serialize;
use share::ingest::SourceCleaner;
use std::collections::HashMap;
use store::{GoldenRow, IncomingRecord, PairRow, QuarantineEntry, Resolved, Store, UpsertCounts};

/// Records read and cleaned per batch while ingesting.
const BATCH: usize = 10_000;

/// Records written per store transaction while ingesting (several cleaned batches, each written as it comes). A
/// transaction rewrites the index pages its inserts touch, scattered over the whole key index, and syncs the disk,
/// so fewer and larger ones write less: at 1M records 50k a transaction took 0.4 s off the ingest against 10k.
const STORE_BATCH: usize = 50_000;

/// Cleaned batches that may wait for the store (about 5 MB each): the cleaning goes on while a transaction is
/// written.
const WAITING_BATCHES: usize = 6;

/// Golden records made per chunk (about 5 MB of rows): small enough that the maker thread and the store's writing
/// thread, which share the last chunks, finish close together.
const GOLDEN_CHUNK: usize = 16_384;

/// What ingesting one source did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    /// Source name.
    pub source: String,
    /// Rows or documents read (readable or not).
    pub read: u64,
    /// New, changed and unchanged records.
    pub counts: UpsertCounts,
    /// Records quarantined whole (unreadable rows included).
    pub quarantined_records: u64,
    /// Values dropped from otherwise usable records.
    pub quarantined_values: u64,
    /// Records skipped because they were erased and put on the suppression list.
    pub suppressed: u64,
    /// Wall seconds of the whole source.
    pub seconds: f64,
    /// Seconds spent mapping, cleaning and encoding (overlapping reading and the store writes).
    pub clean_seconds: f64,
}

/// Ingests every configured source, or only `only`.
pub fn ingest(config: &Config, store: &mut dyn Store, only: Option<&str>, quiet: bool) -> Result<Vec<IngestSummary>> {
    let sources: Vec<&SourceConfig> = match only {
        Some(name) => vec![config.source(name).with_context(|| {
            let known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            format!("no source named `{name}` in the configuration; sources: {}", known.join(", "))
        })?],
        None => config.sources.iter().collect(),
    };
    if sources.is_empty() {
        anyhow::bail!("the configuration declares no sources; add a [[source]] section");
    }
    sources.into_iter().map(|s| ingest_source(config, store, s, quiet)).collect()
}

fn ingest_source(config: &Config, store: &mut dyn Store, source: &SourceConfig, quiet: bool) -> Result<IngestSummary> {
    let path = config.resolve(&source.path);
    let format = format!("{:?}", source.format).to_lowercase();
    let stream = connect::open_source(source, &path).with_context(|| format!("source `{}`", source.name))?;
    let cleaner = SourceCleaner::new(source, share::clock::today())?;
    // A CSV file's rows are laid out by its header; documents name their own keys.
    let cleaner = match source.format {
        model::SourceFormat::Csv => cleaner.for_header_rows(),
        model::SourceFormat::Ndjson | model::SourceFormat::Json => cleaner,
    };
    store.register_source(&source.name, &format, &path.display().to_string(), source.trust)?;
    store.clear_quarantine(&source.name)?;
    let suppression = store.suppression()?;
    let bar = progress::counter(quiet, &format!("ingest {}", source.name));
    let mut summary = IngestSummary { source: source.name.clone(), ..IngestSummary::default() };
    let started = now();
    let timer = std::time::Instant::now();
    // Three stages overlap: one thread reads batches, another cleans each in parallel, and this one writes the
    // batch before (the store is written by one connection).
    let (batches, read) = std::sync::mpsc::sync_channel::<Vec<Result<SourceRecord, RowError>>>(2);
    // Batches the cleaner is done with go back to the reading thread, which empties and refills them: rows are
    // freed by the thread that allocated them, and the memory is reused at once.
    let (done, recycled) = std::sync::mpsc::channel::<Vec<Result<SourceRecord, RowError>>>();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<Prepared>>(WAITING_BATCHES);
    let mut clean_seconds = 0.0;
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || {
            let mut stream = stream;
            loop {
                let mut batch = recycled.try_recv().unwrap_or_default();
                while let Ok(more) = recycled.try_recv() {
                    drop(more);
                }
                batch.clear();
                batch.extend(stream.by_ref().take(BATCH));
                // Stops at the end, or when the cleaner stopped (on an error reported below).
                if batch.is_empty() || batches.send(batch).is_err() {
                    break;
                }
            }
        });
        let producer = scope.spawn(move || {
            let mut busy = 0.0;
            for batch in read {
                let start = std::time::Instant::now();
                let prepared = prepare(&cleaner, &batch, started);
                busy += start.elapsed().as_secs_f64();
                // The reader may have finished; then the batch is simply dropped here.
                let _ = done.send(batch);
                if sender.send(prepared).is_err() {
                    break;
                }
            }
            busy
        });
        // Each batch is written as it comes, into transactions of STORE_BATCH records or more.
        let mut sink = store.record_sink(STORE_BATCH, started)?;
        for prepared in receiver.iter() {
            let Prepared { read, mut records, mut entries } = prepared?;
            summary.read += read;
            if !suppression.is_empty() {
                // Erased records stay erased: neither they nor their quarantine entries are stored again.
                let before = records.len();
                records.retain(|r| !suppression.contains(&r.key));
                summary.suppressed += (before - records.len()) as u64;
                entries.retain(|e| {
                    e.source_id.as_ref().is_none_or(|id| !suppression.contains(&RecordKey::new(&e.source, id)))
                });
            }
            summary.quarantined_records += entries.iter().filter(|e| e.severity == "record").count() as u64;
            summary.quarantined_values += entries.iter().filter(|e| e.severity == "value").count() as u64;
            let counts = sink.write(&records, &entries)?;
            summary.counts.inserted += counts.inserted;
            summary.counts.updated += counts.updated;
            summary.counts.unchanged += counts.unchanged;
            bar.inc(read);
        }
        sink.finish()?;
        clean_seconds = producer.join().map_err(|_| anyhow::anyhow!("the cleaning thread panicked"))?;
        Ok(())
    })?;
    bar.finish_and_clear();
    summary.seconds = timer.elapsed().as_secs_f64();
    summary.clean_seconds = clean_seconds;
    Ok(summary)
}

/// One batch read, cleaned and encoded, ready to store.
struct Prepared {
    read: u64,
    records: Vec<IncomingRecord>,
    entries: Vec<QuarantineEntry>,
}

/// Maps, cleans and encodes a batch in parallel.
fn prepare(cleaner: &SourceCleaner, batch: &[Result<SourceRecord, RowError>], at: i64) -> Result<Prepared> {
    // The clean form is dropped where it was made: memory freed by the thread that allocated it is reused at
    // once, where freeing it on another thread leaves the cleaning threads asking the system for fresh pages.
    let prepared: Vec<(Option<IncomingRecord>, Vec<QuarantineEntry>)> = batch
        .par_iter()
        .map_init(ColumnSlots::default, |slots, item| {
            cleaner.prepare_with(slots, item, at).map(|p| (p.record, p.entries))
        })
        .collect::<Result<_, _>>()?;
    let mut records = Vec::with_capacity(prepared.len());
    let mut entries = Vec::new();
    for (record, found) in prepared {
        records.extend(record);
        entries.extend(found);
    }
    Ok(Prepared { read: batch.len() as u64, records, entries })
}

/// The stewards' pins, by index into `rids` (sorted); pins on records that are not active are left out.
fn pins_by_index(store: &dyn Store, rids: &[i64]) -> Result<master::Pins> {
    let index = |rid: i64| rids.binary_search(&rid).ok().map(|i| i as u32);
    let mut pins = master::Pins::default();
    for pin in store.pins()? {
        if let (Some(a), Some(b)) = (index(pin.a), index(pin.b)) {
            if pin.together { pins.together.push((a, b)) } else { pins.apart.push((a, b)) }
        }
    }
    Ok(pins)
}

/// An entity id per cluster, stable across runs (see `master::identity`).
fn stable_ids(store: &dyn Store, clusters: &[Vec<i64>]) -> Result<Vec<model::EntityId>> {
    let previous = store.previous_entities()?;
    let next = store.next_entity_id()?;
    if previous.is_empty() {
        return Ok((next..next + clusters.len() as u64).map(model::EntityId).collect());
    }
    let before: Vec<Vec<Option<u64>>> =
        clusters.iter().map(|m| m.iter().map(|rid| previous.get(rid).map(|e| *e as u64)).collect()).collect();
    Ok(master::identity::assign_ids(&before).ids(next).into_iter().map(model::EntityId).collect())
}

/// What a resolve run did.
#[derive(Debug, Clone, Serialize)]
pub struct ResolveSummary {
    /// Records matched.
    pub records: u64,
    /// Entities (golden records) made.
    pub entities: u64,
    /// The master's report (pairs and timings).
    pub report: master::ResolveReport,
}

/// Resolves every active record and stores entities, golden records, pairs and the model.
pub fn resolve(config: &Config, store: &mut dyn Store, quiet: bool) -> Result<ResolveSummary> {
    let bar = progress::stages(quiet);
    bar.set_message("loading records");
    let started = std::time::Instant::now();
    let records = store.active_set()?;
    if records.is_empty() {
        bar.finish_and_clear();
        anyhow::bail!("no records to resolve: run `cdihub ingest` first (or check `cdihub quarantine`)");
    }
    let load_secs = started.elapsed().as_secs_f64();
    // Declared sources by their place in the configuration, others after them.
    let mut source_index: HashMap<&str, u32> =
        config.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i as u32)).collect();
    for name in records.sources() {
        let next = source_index.len() as u32;
        source_index.entry(name.as_str()).or_insert(next);
    }
    let index_of: Vec<u32> = records.sources().iter().map(|s| source_index[s.as_str()]).collect();
    let with_identifiers: Vec<CleanRecord> = (0..records.len())
        .into_par_iter()
        .filter(|i| records.may_have_identifiers(*i))
        .map(|i| records.clean(i))
        .collect::<store::Result<_>>()?;
    let names = identifier_names(with_identifiers.iter());
    drop(with_identifiers);
    let builder = FeatureBuilder::new(names.clone());
    // Built straight into their places (collecting `Result`s would gather them in pieces and copy them over).
    let unreadable = std::sync::Mutex::new(None::<store::Error>);
    let mut features = Vec::with_capacity(records.len());
    (0..records.len())
        .into_par_iter()
        .map_init(CleanRecord::default, |clean, i| match records.clean_into(i, clean) {
            Ok(()) => builder.build(index_of[records.source_of(i) as usize], clean),
            Err(e) => {
                unreadable.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get_or_insert(e);
                Features::default()
            }
        })
        .collect_into_vec(&mut features);
    if let Some(e) = unreadable.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()) {
        return Err(e.into());
    }
    // Records likely to be compared are laid out next to each other; the resolution comes back in rid order.
    let layout = Layout::by_name(&features);
    let features = layout.arrange(features);
    let features_secs = started.elapsed().as_secs_f64() - load_secs;
    let stage = |s: &str| bar.set_message(s.to_string());
    let mut pins = pins_by_index(&*store, records.rids())?;
    layout.arrange_pins(&mut pins);
    let resolution = master::resolve(&features, &names, &config.master, &pins, &stage)?;
    features.into_par_iter().for_each(drop);
    let mut resolution = layout.restore(resolution);
    bar.set_message("golden records");
    let clock = std::time::Instant::now();
    let mut clusters: Vec<Vec<usize>> = vec![Vec::new(); resolution.n_clusters];
    for (i, c) in resolution.cluster_of.iter().enumerate() {
        clusters[*c as usize].push(i);
    }
    let rids = records.rids();
    let rid_clusters: Vec<Vec<i64>> = clusters.iter().map(|m| m.iter().map(|i| rids[*i]).collect()).collect();
    let ids = stable_ids(&*store, &rid_clusters)?;
    let pairs = resolution
        .pairs
        .iter()
        .map(|p| PairRow {
            a: rids[p.a as usize],
            b: rids[p.b as usize],
            probability: p.probability,
            decision: match p.decision {
                Decision::Match => "match",
                Decision::Review => "review",
                Decision::Vetoed => "vetoed",
            },
            rule: p.rule.clone(),
        })
        .collect();
    resolution.report.timings.insert(0, ("load".into(), load_secs));
    resolution.report.timings.insert(1, ("features".into(), features_secs));
    let prepare_secs = clock.elapsed().as_secs_f64();
    bar.set_message("golden records and storing");
    let clock = std::time::Instant::now();
    let entities = rid_clusters.len() as u64;
    let resolved = Resolved {
        model_json: serde_json::to_string(&resolution.model)?,
        report_json: serde_json::to_string(&resolution.report)?,
        clusters: rid_clusters,
        ids,
        pairs,
        record_keys: (0..records.len()).into_par_iter().map(|i| (rids[i], records.key(i).to_string())).collect(),
    };
    // Golden records are made in chunks on one other thread while the store writes everything else, and by the
    // store's writing thread too once it reaches the golden records and would otherwise wait for them. The making
    // and the writing take about as long (1M records: 2.6 and 3 s of CPU); making them on the whole pool only took
    // the writer's core away from it.
    let (records, clusters, resolved) = (&records, &clusters, &resolved);
    let rules = Rules::new(&config.survivorship);
    let make = |k: usize| -> golden_chunks::Chunk<GoldenRow, store::Error> {
        let range = k * GOLDEN_CHUNK..((k + 1) * GOLDEN_CHUNK).min(clusters.len());
        // Members are decoded into the same few records and keys again and again, reusing their memory.
        let mut decoded: Vec<(RecordKey, CleanRecord)> = Vec::new();
        clusters[range.clone()]
            .iter()
            .zip(&resolved.ids[range])
            .map(|(members, id)| {
                if decoded.len() < members.len() {
                    decoded.resize_with(members.len(), || (RecordKey::new("", ""), CleanRecord::default()));
                }
                for (i, (key, record)) in members.iter().zip(decoded.iter_mut()) {
                    records.key_into(*i, key);
                    records.clean_into(*i, record)?;
                }
                let members: Vec<Member<'_>> = members
                    .iter()
                    .zip(&decoded)
                    .map(|(i, (key, record))| Member {
                        key,
                        trust: records.trust(*i),
                        recency: records.recency(*i),
                        record,
                    })
                    .collect();
                Ok(GoldenRow::new(&golden_view(*id, &members, &rules)))
            })
            .collect()
    };
    let chunks = golden_chunks::Chunks::new(clusters.len().div_ceil(GOLDEN_CHUNK), make);
    let (to_writer, made) = chunks.channel();
    let survive_secs = std::thread::scope(|scope| -> Result<f64> {
        let maker = scope.spawn(|| chunks.make_and_send(to_writer));
        let mut goldens = golden_chunks::InOrder::new(&chunks, made);
        let saved = store.save_resolution(resolved, &mut goldens, now());
        let writer_busy = goldens.busy;
        // The store may have stopped early (on an error it reports): the maker's sends then fail and it stops.
        drop(goldens);
        let maker_busy = maker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        saved?;
        Ok(prepare_secs + maker_busy + writer_busy)
    })?;
    resolution.report.timings.push(("survive (overlaps store)".into(), survive_secs));
    resolution.report.timings.push(("store".into(), clock.elapsed().as_secs_f64()));
    bar.finish_and_clear();
    Ok(ResolveSummary { records: records.len() as u64, entities, report: resolution.report })
}
