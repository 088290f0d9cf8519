"""Shared pieces of the load scripts: free ports, starting servers, running wrk, parsing its output."""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk_test_kassaBenchSecretKey000000000000000001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become ready")


def start_kassa(database: str, *, workers: int = 1, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kassa.cli", "serve", "--port", str(port), "--database", database,
         "--secret-key", SECRET, "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return process, url


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: str, *, connections: int = 32, seconds: int = 10, threads: int = 1,
        env: dict | None = None) -> Result:
    """Run wrk with a Lua script (given as text) and parse throughput, latency and errors."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        # wrk's LuaJIT starts every process with the same random sequence: without a seed of its own,
        # a run would send the Idempotency-Keys of the run before (replays, not creates), and two wrk
        # at once the same keys.
        handle.write(f"math.randomseed({random.randrange(1, 2**31)})\n" + script)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          "-s", handle.name, url], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})}).stdout
    os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"):
        match = re.search(pattern, out)
        if match:
            errors += sum(int(g) for g in match.groups())
    return Result(rps, p50, p99, errors)


def auth_header() -> str:
    import base64
    return "Basic " + base64.b64encode(f"{SECRET}:".encode()).decode()


def create_lua(body: str) -> str:
    """The wrk script of ``POST /v1/payment_intents`` with `body` and a fresh Idempotency-Key each
    (``{auth}`` still to fill with auth_header())."""
    return CREATE_LUA.replace(CREATE_BODY, body)


CREATE_BODY = "amount=1099&currency=usd&payment_method_types[0]=amazon_pay&metadata[order_id]=42"
CREATE_LUA = """
counter = 0
prefix = tostring(math.random(1, 1e9)) .. "-"
wrk.method = "POST"
""" + f'wrk.body = "{CREATE_BODY}"\n' + """wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "{auth}"
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = prefix .. tostring(id) .. "-" .. tostring(counter)
  return wrk.format(nil, "/v1/payment_intents")
end
setup = function(thread) thread:set("id", math.random(1, 1e9)) end
"""

RETRIEVE_LUA = """
ids = {{}}
for line in io.lines("{ids_file}") do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "{auth}"
request = function()
  return wrk.format("GET", "/v1/payment_intents/" .. ids[math.random(1, #ids)])
end
"""
