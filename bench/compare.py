"""kassa beside localstripe under the same load, on this machine, in one run.

    python bench/compare.py [--seconds 10] [--connections 32] [--quick] [--postgres URL]

Runs, one after the other, 32 connections of creates (POST /v1/payment_intents, a fresh
Idempotency-Key each, as stripe-python sends) and then of retrieves (GET of random stored ids)
against:

- kassa on SQLite, one process;
- kassa on PostgreSQL, one process;
- kassa on PostgreSQL, two processes: two `kassa serve` on two ports over one database, driven by
  two wrk at once with half the connections each (rates added);
- the bare PostgreSQL baseline (bench/baseline_pg_app.py: one row per create, no Stripe semantics),
  one and two processes, so that the PostgreSQL rows can be read against what the machine does;
- localstripe, installed by this script into a throwaway virtual environment.

each with 1,000 and 100,000 stored intents (localstripe: 1,000 and 3,000, see below), plus kassa
SQLite with 3,000 stored for the kassa/localstripe ratio. Prints one table, the memory (VmRSS) of
every server process after its run, and the targets. Every PostgreSQL run gets a database of its
own (CREATE DATABASE kassa_bench_…), dropped at the end; every server is stopped at the end, also
on error. If localstripe cannot be installed or started the script says why and goes on.
`--quick` runs 3 s per load with smaller stores, as a smoke test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from common import CREATE_LUA, RETRIEVE_LUA, SECRET, Result, auth_header, free_port, stop, wrk
from seed import account_of, seed_sqlite

POSTGRES_URL = os.environ.get("KASSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

# Every server process this script starts, so that all are stopped at the end whatever happens.
_PROCESSES: list[subprocess.Popen] = []
_DATABASES: list[tuple[str, str]] = []  # (admin URL, name) of the PostgreSQL databases made here


def _stop_everything() -> None:
    for process in _PROCESSES:
        if process.poll() is None:
            stop(process)
    for admin_url, name in _DATABASES:
        _drop_database(admin_url, name)
    _DATABASES.clear()


# ---- servers -------------------------------------------------------------------------------

def _wait_http(url: str, path: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Until the server answers anything on `path` (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {_tail(log)}")
        try:
            httpx.get(url + path, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer within {timeout:.0f} s: {_tail(log)}")


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_kassa(database: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    """`kassa serve` on a free port, one process (as bench/common.py start_kassa, but the process is
    recorded before waiting for it and its output kept, so a failed start is stopped and explained)."""
    port = free_port()
    log = workdir / f"kassa-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kassa.cli", "serve", "--port", str(port), "--database", database,
             "--secret-key", SECRET, "--workers", "1"], stdout=out, stderr=subprocess.STDOUT)
    _PROCESSES.append(process)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url, "/healthz", process, log)
        if httpx.get(url + "/healthz", timeout=5).status_code != 200:
            raise RuntimeError(f"kassa /healthz did not answer 200: {_tail(log)}")
    except BaseException:
        stop(process)
        raise
    return process, url


def memory_mb(pid: int) -> float:
    """VmRSS of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---- PostgreSQL ----------------------------------------------------------------------------

def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def create_database(admin_url: str) -> str:
    import psycopg
    name = f"kassa_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    _DATABASES.append((admin_url, name))
    return name


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as error:  # noqa: BLE001 - report and go on stopping the rest
        print(f"could not drop database {name}: {error}", file=sys.stderr)


def drop_database(admin_url: str, name: str) -> None:
    _drop_database(admin_url, name)
    _DATABASES.remove((admin_url, name))


def seed_postgres(url: str, count: int, batch: int = 20_000) -> list[str]:
    """Insert `count` intents for the (only) account with COPY, rows as kassa writes them
    (kassa.store.repo._intent_row); returns about 1,000 of their ids, spread over the table."""
    import psycopg

    from kassa.domain import payment_intent as pi
    from kassa.store.repo import _INTENT_COLUMNS, _intent_row

    columns = [name.strip() for name in _INTENT_COLUMNS.split(",")]
    command = pi.CreateIntent(amount=1099, currency="usd", metadata={"order_id": "42"})
    now = int(time.time())
    every = max(1, count // 1000)
    sample: list[str] = []
    with psycopg.connect(url) as connection:
        account_id = connection.execute("SELECT id FROM accounts ORDER BY created, id LIMIT 1").fetchone()[0]
        done = 0
        while done < count:
            with connection.cursor() as cursor, \
                    cursor.copy(f"COPY payment_intents ({', '.join(columns)}) FROM STDIN") as copy:
                for _ in range(min(batch, count - done)):
                    intent, _ = pi.create(command, livemode=False, now=now)
                    row = _intent_row(account_id, intent)
                    copy.write_row([row[name] for name in columns])
                    if done % every == 0:
                        sample.append(row["id"])
                    done += 1
            connection.commit()
        connection.execute("ANALYZE payment_intents")
        connection.commit()
        connection.execute("CHECKPOINT")  # the seeded pages reach the disk now, not during the measurement
    return sample


# ---- localstripe ---------------------------------------------------------------------------

# localstripe's own `start()` binds [::] (every interface) and reads and rewrites
# /tmp/localstripe.pickle, shared by anyone on the machine. This does what `localstripe --port N
# --from-scratch` does, access log included, but listens on 127.0.0.1 only and pickles the whole
# store (as localstripe does on every write) to a file of this run instead.
LOCALSTRIPE_RUNNER = '''
import logging, pickle, socket, sys
from aiohttp import web
import localstripe.resources as resources
from localstripe.server import app

port, pickle_path = int(sys.argv[1]), sys.argv[2]

def dump_to_disk(self):
    with open(pickle_path, "wb") as f:
        pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

if hasattr(resources.Store, "dump_to_disk"):
    resources.Store.dump_to_disk = dump_to_disk
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", port))
logger = logging.getLogger("aiohttp.access")
logger.setLevel(logging.DEBUG)
logger.addHandler(logging.StreamHandler())
web.run_app(app, sock=sock, access_log=logger, print=None)
'''

# Tried in order: the newest, then with an older aiohttp, then an older localstripe.
LOCALSTRIPE_ATTEMPTS = (["localstripe"], ["localstripe", "aiohttp<3.10"], ["localstripe<1.15", "aiohttp<3.10"])

CREATE_BODY = {"amount": "1099", "currency": "usd", "payment_method_types[0]": "amazon_pay",
               "metadata[order_id]": "42"}  # as CREATE_LUA sends


@dataclass
class Localstripe:
    python: Path
    runner: Path
    version: str


def install_localstripe(workdir: Path) -> Localstripe:
    """A throwaway venv with localstripe from the package index, checked with one create."""
    reasons = []
    for number, requirements in enumerate(LOCALSTRIPE_ATTEMPTS):
        env_dir = workdir / f"localstripe-venv-{number}"
        python = env_dir / "bin" / "python"
        try:
            subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", str(env_dir)],
                           check=True, capture_output=True, timeout=120)
            pip = subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements],
                                 capture_output=True, text=True, timeout=600)
            if pip.returncode != 0:
                raise RuntimeError("pip install failed: " + pip.stderr.strip().splitlines()[-1])
            version = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                                      "print(m.version('localstripe'), m.version('aiohttp'))"],
                                     capture_output=True, text=True, check=True, timeout=60).stdout.split()
            found = Localstripe(python, workdir / "localstripe_runner.py", f"{version[0]} (aiohttp {version[1]})")
            found.runner.write_text(LOCALSTRIPE_RUNNER)
            process, url = start_localstripe(found, workdir)
            try:
                response = httpx.post(url + "/v1/payment_intents", data=CREATE_BODY, auth=(SECRET, ""), timeout=10)
                if response.status_code != 200 or not response.json().get("id", "").startswith("pi_"):
                    raise RuntimeError(f"a create answered {response.status_code}: {response.text[:300]}")
            finally:
                stop(process)
            return found
        except Exception as error:  # noqa: BLE001 - try the next pin, then report them all
            reasons.append(f"{' '.join(requirements)}: {error}")
    raise RuntimeError("; ".join(reasons))


def start_localstripe(found: Localstripe, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = workdir / f"localstripe-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(found.python), str(found.runner), str(port),
                                    str(workdir / f"localstripe-{port}.pickle")],
                                   stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    _PROCESSES.append(process)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url, "/v1/payment_intents/pi_none", process, log)
    except BaseException:
        stop(process)
        raise
    return process, url


def seed_localstripe(url: str, count: int, timeout: float = 900) -> list[str]:
    """localstripe has no bulk load: create the intents through its API, one after the other."""
    ids: list[str] = []
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, auth=(SECRET, ""), timeout=30) as client:
        while len(ids) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"seeding localstripe: only {len(ids):,} of {count:,} created in {timeout:.0f} s")
            response = client.post("/v1/payment_intents", data=CREATE_BODY)
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


# ---- load ----------------------------------------------------------------------------------

@dataclass
class Row:
    server: str
    stored: int
    create: Result
    retrieve: Result
    memory: list[float]  # VmRSS in MB of each server process after its run
    note: str = ""


def drive(urls: list[str], script: str, seconds: int, connections: int) -> Result:
    """One wrk per URL, all at once, connections split evenly: rates and errors added,
    p50/p99 the higher of the runs."""
    share = connections // len(urls)
    with ThreadPoolExecutor(len(urls)) as pool:
        results = list(pool.map(lambda url: wrk(url, script, connections=share, seconds=seconds), urls))
    return Result(sum(r.requests_per_second for r in results), max(r.p50_ms for r in results),
                  max(r.p99_ms for r in results), sum(r.errors for r in results))


def measure(server: str, stored: int, urls: list[str], processes: list[subprocess.Popen], ids: list[str],
            workdir: Path, args, note: str = "") -> Row:
    ids_file = workdir / f"ids-{uuid.uuid4().hex[:8]}.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    print(f"  {server}, {stored:,} stored: creates ...", flush=True)
    create = drive(urls, CREATE_LUA.format(auth=auth_header()), args.seconds, args.connections)
    print(f"  {server}, {stored:,} stored: retrieves ...", flush=True)
    retrieve = drive(urls, RETRIEVE_LUA.format(auth=auth_header(), ids_file=ids_file), args.seconds,
                     args.connections)
    memory = [memory_mb(process.pid) for process in processes]
    for process in processes:
        if process.poll() is not None:
            raise RuntimeError(f"a server process exited during the run ({process.returncode})")
    return Row(server, stored, create, retrieve, memory, note)


def kassa_sqlite(stored: int, workdir: Path, args) -> Row:
    path = workdir / f"kassa-{uuid.uuid4().hex[:8]}.sqlite3"
    database = f"sqlite:///{path}"
    process, _ = start_kassa(database, workdir)
    stop(process)  # schema and account exist now; fill the table while no server runs
    print(f"  seeding SQLite with {stored:,} intents ...", flush=True)
    ids = seed_sqlite(str(path), account_of(str(path)), stored)
    process, url = start_kassa(database, workdir)
    try:
        return measure("kassa SQLite, 1 process", stored, [url], [process], ids, workdir, args)
    finally:
        stop(process)


def kassa_postgres(stored: int, count: int, workdir: Path, args) -> Row:
    name = create_database(args.postgres)
    try:
        database = _with_database(args.postgres, name)
        process, _ = start_kassa(database, workdir)  # migrates, makes the account
        stop(process)
        print(f"  seeding PostgreSQL database {name} with {stored:,} intents ...", flush=True)
        ids = seed_postgres(database, stored)
        processes, urls = [], []
        try:
            for _ in range(count):
                process, url = start_kassa(database, workdir)
                processes.append(process)
                urls.append(url)
            label = f"kassa PostgreSQL, {count} process{'es' if count > 1 else ''}"
            return measure(label, stored, urls, processes, ids, workdir, args)
        finally:
            for process in processes:
                stop(process)
    finally:
        drop_database(args.postgres, name)


def baseline_postgres(count: int, workdir: Path, args) -> Row:
    """The bare PostgreSQL baseline (bench/baseline_pg_app.py) in `count` processes on a database of
    its own: what the machine does with PostgreSQL and no Stripe semantics."""
    name = create_database(args.postgres)
    processes, urls = [], []
    try:
        database = _with_database(args.postgres, name)
        for _ in range(count):
            port = free_port()
            log = workdir / f"baseline-{port}.log"
            with log.open("wb") as out:
                process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_pg_app.py")),
                                            str(port), database], stdout=out, stderr=subprocess.STDOUT)
            _PROCESSES.append(process)
            processes.append(process)
            url = f"http://127.0.0.1:{port}"
            _wait_http(url, "/healthz", process, log)
            urls.append(url)
        label = f"baseline PostgreSQL, {count} process{'es' if count > 1 else ''}"
        return measure(label, 0, urls, processes, ["pi_fixed"], workdir, args)
    finally:
        for process in processes:
            stop(process)
        drop_database(args.postgres, name)


def localstripe_row(found: Localstripe, stored: int, workdir: Path, args, note: str = "") -> Row:
    process, url = start_localstripe(found, workdir)
    try:
        print(f"  seeding localstripe with {stored:,} intents through its API ...", flush=True)
        started = time.monotonic()
        ids = seed_localstripe(url, stored)
        print(f"    ({stored / (time.monotonic() - started):,.0f} creates/s while seeding, one connection)",
              flush=True)
        return measure(f"localstripe {found.version.split()[0]}", stored, [url], [process], ids, workdir, args, note)
    finally:
        stop(process)


# ---- report --------------------------------------------------------------------------------

def print_report(rows: list[Row], skipped: list[str], sizes: dict, args, localstripe: Localstripe | None) -> None:
    small, large, ratio_size = sizes["small"], sizes["large"], sizes["ratio"]
    print(f"\n{args.connections} connections, {args.seconds} s per load, wrk 1 thread per process, "
          f"all on this machine ({os.cpu_count()} cores), loopback")
    print("creates: POST /v1/payment_intents with a fresh Idempotency-Key each; retrieves: GET of random "
          "stored ids\n")
    header = (f"{'server':32} {'stored':>9} {'creates/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'retrieves/s':>12} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  RSS MB per process")
    print(header)
    print("-" * len(header))
    for row in rows:
        stored = f"{row.stored:,}{row.note}"
        memory = " / ".join(f"{m:.0f}" for m in row.memory)
        print(f"{row.server:32} {stored:>9} {row.create.requests_per_second:10,.0f} {row.create.p50_ms:8.2f} "
              f"{row.create.p99_ms:8.2f} {row.retrieve.requests_per_second:12,.0f} {row.retrieve.p50_ms:8.2f} "
              f"{row.retrieve.p99_ms:8.2f} {row.create.errors + row.retrieve.errors:7}  {memory}")
    print("\nstored: intents in the store when the creates start (each create run adds its own).")
    print("kassa PostgreSQL, 2 processes: two `kassa serve` on two ports over one database, two wrk at once "
          f"with {args.connections // 2} connections each; rates added, p50/p99 the higher of the two.")
    print("baseline PostgreSQL: bench/baseline_pg_app.py, a bare Starlette handler inserting one row per "
          "create (one autocommit statement) and reading one row per retrieve, through asyncpg's pool.")
    print("RSS: VmRSS from /proc/<pid>/status after the retrieves, before the server is stopped.")
    if localstripe:
        print(f"localstripe {localstripe.version}: in memory, and it pickles its whole store to disk on every "
              f"write; seeded through its API, so * = {ratio_size:,} stored instead of {large:,}.")
    for reason in skipped:
        print(f"skipped: {reason}")

    def rate(server_prefix: str, stored: int) -> float | None:
        for row in rows:
            if row.server.startswith(server_prefix) and row.stored == stored:
                return row.create.requests_per_second
        return None

    print("\ncreate rate by store size:")
    for prefix in ("kassa SQLite, 1 process", "kassa PostgreSQL, 1 process", "kassa PostgreSQL, 2 processes",
                   "localstripe"):
        top = ratio_size if prefix == "localstripe" else large
        low, high = rate(prefix, small), rate(prefix, top)
        if low and high:
            print(f"  {prefix:32} {low:8,.0f}/s with {small:,} -> {high:8,.0f}/s with {top:,} stored "
                  f"(slowdown {low / high:.2f}x)")

    print("\ntargets:")
    kassa_at, local_at = rate("kassa SQLite, 1 process", ratio_size), rate("localstripe", ratio_size)
    if kassa_at and local_at:
        ratio = kassa_at / local_at
        print(f"  kassa/localstripe create ratio with {ratio_size:,} stored (kassa SQLite, 1 process): "
              f"{kassa_at:,.0f} / {local_at:,.0f} = {ratio:.1f}x   target >= 15: {'met' if ratio >= 15 else 'NOT met'}")
    else:
        print(f"  kassa/localstripe create ratio with {ratio_size:,} stored: not measured (see skipped)")
    for stored in (small, large):
        two = rate("kassa PostgreSQL, 2 processes", stored)
        if two:
            print(f"  kassa PostgreSQL, 2 processes, creates/s with {stored:,} stored: {two:,.0f}   "
                  f"target >= 2,000: {'met' if two >= 2000 else 'NOT met'}")
            bare = rate("baseline PostgreSQL, 2 processes", 0)
            if bare:
                print(f"    (the bare baseline, 2 processes, in the same run: {bare:,.0f}/s; kassa does "
                      f"{100 * two / bare:.0f}% of it)")
        else:
            print(f"  kassa PostgreSQL, 2 processes, creates/s with {stored:,} stored: not measured (see skipped)")
    kassa_memory = [m for row in rows if row.server.startswith("kassa") for m in row.memory]
    if kassa_memory:
        worst = max(kassa_memory)
        most = max(row.stored for row in rows if row.server.startswith("kassa"))
        print(f"  kassa memory per process, largest of all runs (up to {most:,} stored): {worst:.0f} MB   "
              f"target <= 150 MB: {'met' if worst <= 150 else 'NOT met'}")
    if sizes["quick"]:
        print("\n(--quick: smaller stores and 3 s loads, a smoke run: the targets are stated for "
              "3,000 / 100,000 stored and 10 s loads)")


# ---- main ----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=None, help="seconds per load (default 10, 3 with --quick)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="3 s per load and smaller stores: a smoke run")
    parser.add_argument("--postgres", default=POSTGRES_URL,
                        help="PostgreSQL server (a database on it, to connect to for CREATE DATABASE)")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 3 if args.quick else 10
    if args.connections < 2 or args.connections % 2:
        parser.error("--connections must be even (the 2-process run splits them in halves)")
    sizes = ({"small": 200, "large": 5_000, "ratio": 500, "quick": True} if args.quick
             else {"small": 1_000, "large": 100_000, "ratio": 3_000, "quick": False})

    # SIGTERM too ends through the finally below, so that no server is left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows: list[Row] = []
    skipped: list[str] = []
    failed = False
    localstripe = None
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="kassa-compare-") as tmp:
            workdir = Path(tmp)

            def attempt(what: str, run, required: bool = True) -> None:
                nonlocal failed
                try:
                    rows.append(run())
                except Exception as error:  # noqa: BLE001 - note it, go on with the other rows
                    traceback.print_exc()
                    skipped.append(f"{what}: {error}")
                    failed = failed or required

            print("kassa, SQLite, 1 process", flush=True)
            for stored in (sizes["small"], sizes["ratio"], sizes["large"]):
                attempt(f"kassa SQLite with {stored:,} stored",
                        lambda stored=stored: kassa_sqlite(stored, workdir, args))

            postgres_reason = None
            try:
                import psycopg
                with psycopg.connect(args.postgres, connect_timeout=5) as connection:
                    connection.execute("SELECT 1")
            except Exception as error:  # noqa: BLE001
                postgres_reason = f"PostgreSQL not reachable at {args.postgres}: {error}"
            if postgres_reason:
                skipped.append(f"kassa PostgreSQL rows: {postgres_reason}")
                failed = True
            else:
                for count in (1, 2):
                    print(f"kassa, PostgreSQL, {count} process{'es' if count > 1 else ''}", flush=True)
                    for stored in (sizes["small"], sizes["large"]):
                        attempt(f"kassa PostgreSQL, {count} processes, with {stored:,} stored",
                                lambda stored=stored, count=count: kassa_postgres(stored, count, workdir, args))
                    attempt(f"baseline PostgreSQL, {count} processes",
                            lambda count=count: baseline_postgres(count, workdir, args))

            print("localstripe: installing into a throwaway virtual environment ...", flush=True)
            try:
                localstripe = install_localstripe(workdir)
                print(f"  localstripe {localstripe.version}", flush=True)
            except Exception as error:  # noqa: BLE001 - the kassa rows stand on their own
                skipped.append(f"localstripe could not be installed or started: {error}")
            if localstripe:
                attempt(f"localstripe with {sizes['small']:,} stored",
                        lambda: localstripe_row(localstripe, sizes["small"], workdir, args), required=False)
                attempt(f"localstripe with {sizes['ratio']:,} stored",
                        lambda: localstripe_row(localstripe, sizes["ratio"], workdir, args, note="*"),
                        required=False)
            _stop_everything()
    finally:
        _stop_everything()
    print_report(rows, skipped, sizes, args, localstripe)
    print(f"\n(whole run: {time.monotonic() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
