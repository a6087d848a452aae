#!/usr/bin/env python3
"""cdihub against the Splink baseline, in one run, on the same files.

For each data set it runs cdihub end to end (ingest + resolve, golden records stored) and
../shared/bench/splink_baseline.py, measures wall seconds and peak RSS of each, scores both against
the truth, and prints one Markdown table with the ratio cdihub/Splink.

usage: bench/compare.py [--sets febrl3,febrl4,people100k,people1m] [--work DIR] [--no-splink]
needs: a release build (cargo build --release) and `pip install splink duckdb` for the baseline.
Data: FEBRL from ../shared/data/febrl; gen_people files are generated once (seed 7) into --work and reused.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CDIHUB = REPO / "target" / "release" / "cdihub"


def run(cmd):
    """Runs a command and returns its standard output."""
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{out.stderr}")
    return out.stdout


def settle():
    """Lets the disk finish what came before (a deleted database's blocks are discarded in the background, which
    slowed the next command by about 0.35 s at 1M records), so each measured command pays only for its own work."""
    os.sync()
    time.sleep(1)


def peak_rss(cmd):
    """Runs under /usr/bin/time to read this command's own peak RSS (MiB); returns (stdout, wall, rss)."""
    settle()
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, cmd)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{out.stderr}")
    rss_kb = int(out.stderr.strip().splitlines()[-1])
    return out.stdout, wall, rss_kb / 1024


def febrl_config(work, name):
    text = (REPO / "examples" / "febrl" / f"{name}.toml").read_text().replace("../../../shared", str(SHARED))
    path = work / f"{name}.toml"
    path.write_text(text)
    return path, ["--truth-regex", r"^(rec-\d+)"]


def people_config(work, records):
    data = work / f"people-{records}.csv"
    if not data.exists():
        subprocess.run([sys.executable, SHARED / "bench" / "gen_people.py", data, "--records", str(records), "--seed", "7"],
                       check=True, capture_output=True)
    text = (REPO / "examples" / "gen_people" / "cdihub.toml").read_text()
    text = text.replace('path = "people.csv"', f'path = "{data}"').replace('path = "people.db"', f'path = "people-{records}.db"')
    path = work / f"people-{records}.toml"
    path.write_text(text)
    return path, ["--truth-field", "cluster"], data


def cdihub(config, truth_args):
    # Each config names its database after itself (febrl3.toml -> febrl3.db); start from an empty one.
    for suffix in ("", "-wal", "-shm"):
        Path(str(config.with_suffix(".db")) + suffix).unlink(missing_ok=True)
    _, ingest_wall, ingest_rss = peak_rss([CDIHUB, "-q", "-c", config, "ingest"])
    out, resolve_wall, resolve_rss = peak_rss([CDIHUB, "-q", "-c", config, "resolve"])
    timings = out.strip().splitlines()[-1].strip()
    database_mb = config.with_suffix(".db").stat().st_size / 1e6
    scores = run([CDIHUB, "-c", config, "eval", "--json", *truth_args])
    e = json.loads(scores)
    return dict(wall=ingest_wall + resolve_wall, rss=max(ingest_rss, resolve_rss), records=e["records"],
                pp=e["pairwise"]["precision"], pr=e["pairwise"]["recall"], pf=e["pairwise"]["f1"],
                cp=e["cluster"]["precision"], cr=e["cluster"]["recall"], cf=e["cluster"]["f1"],
                stages=f"ingest {ingest_wall:.2f}s; resolve {timings.removeprefix('time: ')}; database {database_mb:.0f} MB")


def splink(kind, path):
    out, wall, rss = peak_rss([sys.executable, SHARED / "bench" / "splink_baseline.py", kind, path])
    r = json.loads(out.strip().splitlines()[-1])
    return dict(wall=wall, rss=rss, pp=r["pair_precision"], pr=r["pair_recall"], pf=r["pair_f1"],
                cp=r["cluster_precision"], cr=r["cluster_recall"], cf=r["cluster_f1"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="febrl3,febrl4,people100k")
    ap.add_argument("--work", default="/tmp/cdihub-bench")
    ap.add_argument("--no-splink", action="store_true")
    a = ap.parse_args()
    if not CDIHUB.exists():
        sys.exit("build first: cargo build --release")
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    rows, notes = [], []
    for name in a.sets.split(","):
        if name in ("febrl3", "febrl4"):
            config, truth = febrl_config(work, name)
            baseline = (name, SHARED / "data" / "febrl")
        elif name.startswith("people"):
            records = {"people100k": 100_000, "people1m": 1_000_000}.get(name) or int(name.removeprefix("people"))
            config, truth, data = people_config(work, records)
            baseline = ("flat", data)
        else:
            sys.exit(f"unknown set {name}")
        ours = cdihub(config, truth)
        theirs = None if a.no_splink else splink(*baseline)
        rows.append((name, ours, theirs))
        notes.append(f"- {name}: {ours['stages']}")
    head = "| data | records | tool | wall s | peak RSS MiB | pair P | pair R | pair F1 | cluster P | cluster R | cluster F1 | wall cdihub/Splink |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for name, ours, theirs in rows:
        for tool, r in (("cdihub", ours), ("splink", theirs)):
            if r is None:
                continue
            ratio = f"{ours['wall'] / theirs['wall']:.2f}" if theirs and tool == "cdihub" else ""
            print(f"| {name} | {ours['records']} | {tool} | {r['wall']:.2f} | {r['rss']:.0f} | {r['pp']:.4f} | {r['pr']:.4f} | "
                  f"{r['pf']:.4f} | {r['cp']:.4f} | {r['cr']:.4f} | {r['cf']:.4f} | {ratio} |")
    print()
    print("cdihub stages:")
    print("\n".join(notes))


if __name__ == "__main__":
    main()
