#!/usr/bin/env python3
"""The real-time hub under load: latency and throughput of upserts and lookups against a resolved hub.

It copies a resolved hub's database (so the run leaves it as it was), starts `cdihub serve` on it (the start
includes building the blocking index when it is missing), and from one client on loopback, over one keep-alive
connection, sends:
  - single upserts (PUT /sources/{source}/records/{id}) one after another: half are an existing person again
    under a new id with a changed phone (matched and merged into their entity), half are new people (a new
    entity each) — p50/p99/max latency and records per second;
  - batch upserts (POST .../records:batch) of --batch-size records of the same mix — records per second and
    the per-call latency;
  - lookups by source key (GET /lookup) of random existing records — p50/p99.
Prints one Markdown table (the one BENCHMARKS.md records).

usage: bench/realtime.py --config examples/gen_people/cdihub.toml --db hub.db --csv people.csv
                         [--singles 10000] [--batches 40] [--batch-size 500] [--lookups 5000]
needs: a release build (cargo build --release) and a hub already ingested and resolved from --csv
(`bench/compare.py --sets people1m --no-splink` leaves one in its work directory).
"""
import argparse, csv, http.client, json, random, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CDIHUB = REPO / "target" / "release" / "cdihub"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def start_server(config):
    proc = subprocess.Popen([str(CDIHUB), "-c", str(config), "serve", "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.perf_counter()
    line = proc.stdout.readline()
    ready = time.perf_counter() - started
    match = re.search(r"http://([\d.]+):(\d+)", line)
    if not match:
        proc.kill()
        sys.exit(f"cdihub serve did not start: {line}{proc.stderr.read()}")
    return proc, match.group(1), int(match.group(2)), ready


def issue_key(config):
    """An admin API key for the run (every endpoint but /health needs one)."""
    out = subprocess.run([str(CDIHUB), "-c", str(config), "api-keys", "create", "--name", "realtime-bench",
                          "--role", "admin", "--expires-in-days", "1"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


class Client:
    def __init__(self, host, port, token):
        self.conn = http.client.HTTPConnection(host, port)
        self.auth = {"authorization": f"Bearer {token}"}

    def call(self, method, path, data=None):
        """data: the request body, already encoded (the client's own JSON work is not the server's time)."""
        headers = dict(self.auth, **({"content-type": "application/json"} if data is not None else {}))
        start = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - start
        if response.status >= 300 and not (method == "GET" and response.status == 404):
            sys.exit(f"{method} {path} answered {response.status}: {payload[:500]}")
        return elapsed, payload


def workload(rows, n, rng, tag):
    """n records: every other one an existing person under a new id with another phone, the rest new people."""
    out = []
    for i in range(n):
        base = dict(rng.choice(rows))
        base.pop("cluster", None)
        if i % 2 == 0:
            base["phone"] = str(rng.randrange(2_000_000_000, 9_999_999_999))
        else:
            base["given_name"] = rng.choice(["ada", "grace", "alan", "edsger", "barbara", "donald"]) + str(i)
            base["family_name"] = f"{tag}x{rng.randrange(10**9)}"
            base["email"] = f"{base['given_name']}.{base['family_name']}@example.org"
            base["phone"] = str(rng.randrange(2_000_000_000, 9_999_999_999))
            base["birth_date"] = f"19{rng.randrange(30, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}"
        base["id"] = f"{tag}{i}"
        out.append(base)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--source", default="people")
    ap.add_argument("--singles", type=int, default=10000)
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--lookups", type=int, default=5000)
    args = ap.parse_args()
    rng = random.Random(7)
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    work = Path(tempfile.mkdtemp(prefix="cdihub-rt-"))
    db = work / "hub.db"
    shutil.copy(args.db, db)
    config_text = Path(args.config).read_text()
    config_text = re.sub(r'(?m)^path\s*=\s*".*\.db"', f'path = "{db}"', config_text, count=1)
    config_text = re.sub(r'(?m)^(path\s*=\s*")(?!/)(.*\.csv")', lambda m: m.group(1) + str(Path(args.csv).resolve()) + '"', config_text)
    config = work / "cdihub.toml"
    config.write_text(config_text)
    token = issue_key(config)
    proc, host, port, ready = start_server(config)
    try:
        client = Client(host, port, token)
        source = args.source
        # Every request body is made and encoded before the clock starts.
        singles = [(r["id"], json.dumps(r).encode()) for r in workload(rows, args.singles, rng, "rt")]
        batches = [json.dumps(workload(rows, args.batch_size, rng, f"rb{b}-")).encode() for b in range(args.batches)]
        latencies, outcomes = [], {}
        started = time.perf_counter()
        for record_id, record in singles:
            elapsed, payload = client.call("PUT", f"/sources/{source}/records/{record_id}", record)
            latencies.append(elapsed)
            entity_events = json.loads(payload)["events"]
            outcomes[len(entity_events) > 0] = outcomes.get(len(entity_events) > 0, 0) + 1
        single_wall = time.perf_counter() - started

        batch_latencies, batch_records = [], 0
        started = time.perf_counter()
        for batch in batches:
            elapsed, _ = client.call("POST", f"/sources/{source}/records:batch", batch)
            batch_latencies.append(elapsed)
            batch_records += args.batch_size
        batch_wall = time.perf_counter() - started

        lookup_latencies = []
        for _ in range(args.lookups):
            row = rng.choice(rows)
            elapsed, _ = client.call("GET", f"/lookup?source={source}&id={row['id']}")
            lookup_latencies.append(elapsed)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)

    ms = lambda s: f"{s * 1000:.2f} ms"
    print(f"server ready (incl. blocking index) after {ready:.1f} s; records in the hub before: {len(rows):,}")
    print()
    print("| operation | count | p50 | p99 | max | throughput |")
    print("|---|---|---|---|---|---|")
    print(f"| single upsert (PUT) | {len(latencies):,} | {ms(percentile(latencies, 50))} | {ms(percentile(latencies, 99))} "
          f"| {ms(max(latencies))} | {len(latencies) / single_wall:,.0f} records/s |")
    if batch_latencies:
        print(f"| batch upsert ({args.batch_size}/call) | {batch_records:,} | {ms(percentile(batch_latencies, 50))} "
              f"| {ms(percentile(batch_latencies, 99))} | {ms(max(batch_latencies))} | {batch_records / batch_wall:,.0f} records/s |")
    print(f"| lookup by source key | {len(lookup_latencies):,} | {ms(percentile(lookup_latencies, 50))} "
          f"| {ms(percentile(lookup_latencies, 99))} | {ms(max(lookup_latencies))} | — |")


if __name__ == "__main__":
    main()
