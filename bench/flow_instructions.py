"""Instructions the server executes per Amazon Pay flow, counted by valgrind (callgrind).

    python bench/flow_instructions.py [--flows 200] [--versus NAME=VALUE ...]

Rates and CPU times move with the machine's hour; instruction counts do not (the same code, inputs
and environment count the same to a few in ten thousand), so this is the figure by which two
versions of the code are compared. The server runs under callgrind with counting off; after a
warm-up, counting is switched on for `--flows` flows made one after another (create → confirm →
authorize on the test page → retrieve), then off. One flow at a time means one unit per commit:
the count holds every commit's own work, which under load is shared by the units of a batch.
Beside it, the bare baseline (bench/baseline_app.py) doing three inserts and a read per flow.
With --versus, kassa is counted a second time with those settings (for example
KASSA_METRICS=off, to see what the metrics cost). Needs valgrind (apt-get install valgrind); about a
minute per count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SECRET, free_port, stop, wait_ready
from flow_bench import STEPS, baseline_flow, kassa_flow
from httpclient import Connection


def flows(port: int, flow, count: int) -> None:
    async def run():
        conn = Connection("127.0.0.1", port)
        timings = {step: [] for step in STEPS}
        try:
            for _ in range(count):
                if not await flow(conn, timings):
                    raise SystemExit("a flow failed")
        finally:
            conn.close()

    asyncio.run(run())


def counted(command: list[str], flow, count: int, tmp: Path, port: int, env: dict | None = None) -> float:
    """Instructions per flow of the server started by `command` (listening on `port`)."""
    out = tmp / "callgrind.out"
    process = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                f"--callgrind-out-file={out}", *command],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, timeout=300)
        flows(port, flow, 30)  # warm-up: caches, first-time code paths
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True, capture_output=True)
        flows(port, flow, count)
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(process.pid)], check=True, capture_output=True)
        deadline = time.monotonic() + 30
        dumps: list[Path] = []
        while time.monotonic() < deadline and not dumps:
            dumps = [path for path in tmp.glob("callgrind.out.*") if path.stat().st_size]
            time.sleep(0.2)
    finally:
        stop(process)
    total = sum(int(match) for path in dumps
                for match in re.findall(r"^totals:\s+(\d+)", path.read_text(), re.M))
    if not total:
        raise SystemExit("callgrind counted nothing")
    return total / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--versus", nargs="*", default=[], metavar="NAME=VALUE",
                        help="count kassa again with these settings")
    args = parser.parse_args()
    versus = dict(item.split("=", 1) for item in args.versus)
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        kassa = counted([sys.executable, "-m", "kassa.cli", "serve", "--port", str(port), "--database",
                         f"sqlite:///{Path(tmp) / 'kassa.sqlite3'}", "--secret-key", SECRET],
                        kassa_flow, args.flows, Path(tmp), port)
        for path in Path(tmp).glob("callgrind.out*"):
            os.unlink(path)
        other = None
        if versus:
            port = free_port()
            other = counted([sys.executable, "-m", "kassa.cli", "serve", "--port", str(port), "--database",
                             f"sqlite:///{Path(tmp) / 'kassa-versus.sqlite3'}", "--secret-key", SECRET],
                            kassa_flow, args.flows, Path(tmp), port, env=versus)
            for path in Path(tmp).glob("callgrind.out*"):
                os.unlink(path)
        port = free_port()
        baseline = counted([sys.executable, str(Path(__file__).with_name("baseline_app.py")), str(port),
                            str(Path(tmp) / "baseline.sqlite3")], baseline_flow, args.flows, Path(tmp), port)
    print(f"\ninstructions per flow, {args.flows} flows one after another, one process, SQLite\n")
    print(f"{'kassa (create, confirm, authorize, retrieve)':46} {kassa / 1e6:8.3f} M")
    if other is not None:
        settings = " ".join(f"{k}={v}" for k, v in versus.items())
        print(f"{'kassa with ' + settings:46} {other / 1e6:8.3f} M   ({(kassa - other) / other:+.1%} without them)")
    print(f"{'baseline (3 bare inserts + 1 read)':46} {baseline / 1e6:8.3f} M")


if __name__ == "__main__":
    main()
