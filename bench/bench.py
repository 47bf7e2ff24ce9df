#!/usr/bin/env python3
"""Benchmark driver for qtscen (called by bench/run.sh; stdlib only).

Generates the data and the scenarios into a temp dir, starts nginx on 127.0.0.1:<free
port> serving them, runs every workload with every tool (qtscen, the raw reqwest baseline
`examples/bench_baseline.rs`, and with --peers Hurl and Tavern), and prints one table:
median wall time over N runs, the ratio to the baseline, per-request overhead and peak RSS
(`/usr/bin/time -f %M`). `--json FILE` writes the same, plus the machine, as JSON.

Workloads
  W0  startup: `--version`
  W1  500 sequential GETs of a small JSON, one JSONPath assertion each
  W2  a 50-page walk over 10,000 orders (200 a page, ~25 KB a page): every payed_at in a
      datetime window, every id collected
  W3  `qtscen validate` and `qtscen plan` of a generated 1,000-step scenario (no server)
  W4  the Markdown report of a 10,000-attempt run: `qtscen render RUN_DIR` when that
      command exists, otherwise the whole 10,000-request run (said so in the table)
  W5  a suite: 20 scenarios of 5 GETs each to a server that answers after 400 ms (a
      threaded Python server started by this script, not nginx): one scenario alone,
      the 20 with `-j 20` and with `-j 1`; and the 20 against a 200 ms server at
      `-j` = the CPUs, as scenarios per minute
  W6  a 5,000-page walk over 1,000,000 orders (~125 MB, W2's pages): every payed_at
      checked against the window, and a reconciliation by id against a ClickHouse
      table holding the same orders minus 17 (see w6.py; needs clickhouse-server,
      installed from Debian when missing and run as root)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import w6

W1_REQUESTS = 500
W2_PAGES = 50
W2_PER_PAGE = 200
W3_STEPS = 1000
W4_ATTEMPTS = 10_000
TZ = dt.timezone(dt.timedelta(hours=3))
WINDOW_FROM = dt.datetime(2025, 11, 1, 0, 0, 0, tzinfo=TZ)
WINDOW_TO = dt.datetime(2025, 11, 8, 0, 0, 0, tzinfo=TZ)
RUN_TIMEOUT_S = 900
W5_SCENARIOS = 20
W5_REQUESTS = 5
W5_DELAY_MS = 400
W5_THROUGHPUT_DELAY_MS = 200

# Targets of issue 5 (shown, never enforced).
TARGETS = {
    ("qtscen", "W0 startup"): ("<10 ms", lambda r: r.median_ms < 10),
    ("qtscen", "W1 500 GETs"): ("<=1.15x", lambda r: r.ratio is not None and r.ratio <= 1.15),
    ("qtscen", "W2 50 pages"): ("<=1.25x", lambda r: r.ratio is not None and r.ratio <= 1.25),
    ("qtscen", "W3 validate"): ("<50 ms", lambda r: r.median_ms < 50),
    ("qtscen", "W4 render"): ("<200 ms", lambda r: r.median_ms < 200),
    # Issue 15: W5's x is against one scenario alone (-j 20) or the sum of 20 (-j 1).
    ("qtscen", "W5 20 -j 20"): ("<=1.2x one", lambda r: r.ratio is not None and r.ratio <= 1.2),
    ("qtscen", "W5 20 -j 1"): ("~1x sum", lambda r: r.ratio is not None and 0.9 <= r.ratio <= 1.15),
    # Issue 14: a million orders in bounded memory.
    ("qtscen", "W6 1M orders"): ("<=1.3x <100MiB", lambda r: r.ratio is not None and r.ratio <= 1.3
                                 and r.peak_rss_mb < 100),
}


class Interrupted(Exception):
    pass


def _on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


class RunTimeout(Exception):
    pass


def _on_alarm(_signum, _frame):
    raise RunTimeout()


# ----------------------------------------------------------------------------- data


FIRST = ["Анна", "Иван", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Наталья", "Павел"]
LAST = ["Смирнова", "Иванов", "Кузнецова", "Попов", "Соколова", "Лебедев", "Козлова", "Новиков", "Морозова", "Волков"]


def w2_page(n: int) -> dict:
    span = int((WINDOW_TO - WINDOW_FROM).total_seconds())
    total = W2_PAGES * W2_PER_PAGE
    orders = []
    for i in range(W2_PER_PAGE):
        k = (n - 1) * W2_PER_PAGE + i
        t = WINDOW_FROM + dt.timedelta(seconds=(k * span) // total + (k * 7) % 53)
        orders.append(
            {
                "id": 4_100_000 + k,
                "payed_at": t.isoformat(),
                "price": 500 + (k * 37) % 9000,
                "client": {"name": f"{FIRST[k % 10]} {LAST[(k // 10) % 10]}"},
                "status": "paid",
            }
        )
    return {
        "data": orders,
        "meta": {"has_next": n < W2_PAGES, "page": n, "per_page": W2_PER_PAGE, "total_pages": W2_PAGES},
    }


def write_data(www: Path) -> dict:
    (www / "w1").mkdir(parents=True)
    (www / "w2").mkdir()
    (www / "w1" / "item.json").write_text(json.dumps({"data": {"id": 1, "status": "ok"}}))
    sizes = []
    for n in range(1, W2_PAGES + 1):
        body = json.dumps(w2_page(n), ensure_ascii=False, separators=(",", ":")).encode()
        (www / "w2" / f"orders-page-{n}.json").write_bytes(body)
        sizes.append(len(body))
    return {"w2_page_bytes_avg": sum(sizes) // len(sizes), "w2_total_bytes": sum(sizes)}


# ----------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, tmp: Path, www: Path, binary: str):
        self.tmp = tmp / "nginx"
        self.www = www
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def config(self) -> str:
        user = ""
        if os.geteuid() == 0:
            # Workers would otherwise run as `nobody` and could not read the 0700 temp dir.
            user = "user root root;"
        t = self.tmp
        return f"""
{user}
worker_processes 1;
pid {t}/nginx.pid;
error_log {t}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    types {{ }}
    default_type application/json;
    charset utf-8;
    charset_types application/json;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path {t}/client_body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.www};
        # /w2/orders?page=N -> /w2/orders-page-N.json (nginx ignores query strings for files)
        location = /w2/orders {{
            try_files /w2/orders-page-$arg_page.json =404;
        }}
        location = /w6/orders {{
            try_files /w6/orders-page-$arg_page.json =404;
        }}
        location / {{ }}
    }}
}}
"""

    def start(self) -> None:
        self.tmp.mkdir(parents=True)
        conf = self.tmp / "nginx.conf"
        conf.write_text(self.config())
        log = open(self.tmp / "stderr.log", "wb")
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.tmp), "-c", str(conf), "-e", str(self.tmp / "error.log"),
             "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: " + (self.tmp / "stderr.log").read_text()
                                   + (self.tmp / "error.log").read_text(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start listening within 10 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class SlowServer:
    """`bench.py --slow-server PORT` in a process of its own: GET /slow/MS answers
    `{"data":{"status":"ok"}}` after MS milliseconds; a thread per connection, keep-alive."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.tmp / "slow-server.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--slow-server", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the slow server exited: " + (self.tmp / "slow-server.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the slow server did not start listening within 10 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def serve_slow(port: int) -> int:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle's algorithm the body would
        # wait for the client's delayed ACK (40 ms a request).
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 (the stdlib's name)
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            ms = int(parts[1]) if len(parts) == 2 and parts[0] == "slow" and parts[1].isdigit() else 0
            time.sleep(ms / 1000)
            body = b'{"data":{"status":"ok"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        # socketserver's default backlog is 5: 20 clients connecting at once would see
        # SYNs dropped and retried a second later.
        request_queue_size = 256

    server = Server(("127.0.0.1", port), Handler)
    def stop(*_args):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


# ----------------------------------------------------------------------------- inputs


def yq(s: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def scenario_w1(url: str, steps: int, name: str) -> str:
    out = [f"name: {name}", "steps:"]
    for i in range(1, steps + 1):
        out.append(f"  - id: s{i}")
        out.append(f"    http: {{ url: {yq(url)} }}")
        out.append('    assert: [{ jsonpath: "$.data.status", equals: ok }]')
    return "\n".join(out) + "\n"


def scenario_w5(base: str, delay_ms: int, n: int) -> str:
    out = [f"name: bench_w5_{n:02d}", "steps:"]
    for i in range(1, W5_REQUESTS + 1):
        out.append(f"  - id: r{i}")
        out.append(f"    http: {{ url: {yq(f'{base}/slow/{delay_ms}?s={n}&r={i}')} }}")
        out.append('    assert: [{ jsonpath: "$.data.status", equals: ok }]')
    return "\n".join(out) + "\n"


def write_w5(files: Path, base: str, delay_ms: int) -> Path:
    folder = files / f"w5-{delay_ms}ms"
    folder.mkdir()
    for n in range(1, W5_SCENARIOS + 1):
        (folder / f"s{n:02d}.yaml").write_text(scenario_w5(base, delay_ms, n))
    return folder


def scenario_w2(url: str) -> str:
    return f"""name: bench_w2
vars:
  window_from: "{WINDOW_FROM.isoformat()}"
  window_to: "{WINDOW_TO.isoformat()}"
steps:
  - id: orders
    http:
      url: {yq(url)}
      paginate:
        param: page
        in: query
        until: "not response.json.meta.has_next"
        max_pages: 60
        collect: "$.data[*]"
    assert:
      - items: "$[*].payed_at"
        all: {{ gte: "{{{{ vars.window_from }}}}", lt: "{{{{ vars.window_to }}}}" }}
    capture:
      ids: {{ items: "$[*].id", all: true }}
"""


def scenario_w3(steps: int) -> str:
    ids = ", ".join(str(7000 + i) for i in range(steps))
    out = [
        "name: bench_w3",
        "description: generated by bench/bench.py (validate and plan only; nothing is sent)",
        "env:",
        "  defaults:",
        "    BENCH_BASE: http://127.0.0.1:9",
        "    BENCH_TOKEN: not-a-secret",
        "vars:",
        '  base: "{{ env.BENCH_BASE }}"',
        "  window_from: \"{{ now('Europe/Moscow') | minus('48h') }}\"",
        "  window_to: \"{{ now('Europe/Moscow') }}\"",
        f"  ids: [{ids}]",
        "defaults:",
        "  http:",
        '    headers: { Authorization: "Bearer {{ env.BENCH_TOKEN }}", Accept: application/json }',
        "    timeout: 5s",
        "steps:",
    ]
    for i in range(steps):
        out += [
            f"  - id: s{i + 1}",
            f"    title: item {i + 1}",
            "    tags: [api]",
            "    http:",
            f'      url: "{{{{ vars.base }}}}/x/{{{{ vars.ids[{i}] }}}}"',
            "      query:",
            '        from: "{{ vars.window_from }}"',
            '        to: "{{ vars.window_to }}"',
            f"        n: {i + 1}",
            "    assert:",
            "      - status: 200",
            '      - jsonpath: "$.data.status"',
            "        equals: ok",
            "    capture:",
            '      sid: { jsonpath: "$.data.id" }',
        ]
    return "\n".join(out) + "\n"


def hurl_w1(url: str) -> str:
    entry = f'GET {url}\nHTTP 200\n[Asserts]\njsonpath "$.data.status" == "ok"\n'
    return "\n".join([entry] * W1_REQUESTS)


def hurl_w2(url: str) -> str:
    lo, hi = WINDOW_FROM.isoformat(), WINDOW_TO.isoformat()
    out = []
    for n in range(1, W2_PAGES + 1):
        out.append(
            f"GET {url}\n[Query]\npage: {n}\nHTTP 200\n"
            f'[Captures]\nids_{n}: jsonpath "$.data[*].id"\n'
            "[Asserts]\n"
            f'jsonpath "$.meta.has_next" == {"true" if n < W2_PAGES else "false"}\n'
            f'jsonpath "$.data[0].payed_at" isIsoDate\n'
            f'jsonpath "$.data" count == {W2_PER_PAGE}\n'
            f"jsonpath \"$.data[?(@.payed_at >= '{lo}' && @.payed_at < '{hi}')]\" count == {W2_PER_PAGE}\n"
        )
    return "\n".join(out)


TAVERN_EXT = '''"""Checks for the Tavern W2 file (generated by bench/bench.py)."""
import datetime as dt

IDS = []


def page_in_window(response, lo, hi, has_next):
    doc = response.json()
    lo, hi = dt.datetime.fromisoformat(lo), dt.datetime.fromisoformat(hi)
    for i, item in enumerate(doc["data"]):
        t = dt.datetime.fromisoformat(item["payed_at"])
        assert lo <= t < hi, f"item {i}: payed_at {item['payed_at']} outside the window"
        IDS.append(item["id"])
    assert doc["meta"]["has_next"] is has_next
'''


def tavern_w1(url: str) -> str:
    out = ["test_name: bench_w1", "strict: [json:off]", "stages:"]
    for i in range(1, W1_REQUESTS + 1):
        out += [
            f"  - name: s{i}",
            f"    request: {{ url: {yq(url)}, method: GET }}",
            "    response:",
            "      status_code: 200",
            "      json: { data: { status: ok } }",
        ]
    return "\n".join(out) + "\n"


def tavern_w2(url: str) -> str:
    out = ["test_name: bench_w2", "stages:"]
    for n in range(1, W2_PAGES + 1):
        out += [
            f"  - name: page{n}",
            f"    request: {{ url: {yq(url)}, method: GET, params: {{ page: {n} }} }}",
            "    response:",
            "      status_code: 200",
            "      verify_response_with:",
            "        function: bench_tavern_ext:page_in_window",
            "        extra_kwargs:",
            f"          lo: {yq(WINDOW_FROM.isoformat())}",
            f"          hi: {yq(WINDOW_TO.isoformat())}",
            f"          has_next: {'true' if n < W2_PAGES else 'false'}",
        ]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- runs


@dataclass
class Job:
    tool: str
    workload: str
    cmd: list[str]
    requests: int = 0  # for per-request overhead; 0 = not a request workload
    baseline_of: str | None = None  # the baseline row's workload key for the ratio
    out_dir: Path | None = None  # a fresh --out folder per run, removed afterwards
    env: dict | None = None
    cwd: Path | None = None
    note: str = ""


@dataclass
class Result:
    job: Job
    times_ms: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    ratio: float | None = None
    overhead_ms: float | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else float("nan")

    @property
    def min_ms(self) -> float:
        return min(self.times_ms) if self.times_ms else float("nan")

    @property
    def peak_rss_mb(self) -> float:
        return max(self.rss_kb) / 1024 if self.rss_kb else float("nan")


def kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    p.wait()


def run_once(job: Job, tmp: Path, i: int) -> tuple[float, int, str | None]:
    rss_file = tmp / "rss.txt"
    err_file = tmp / "stderr.txt"
    cmd = list(job.cmd)
    out_dir = None
    if job.out_dir is not None:
        out_dir = job.out_dir.with_name(f"{job.out_dir.name}-{i}")
        cmd = [c.replace("{OUT}", str(out_dir)) for c in cmd]
    env = dict(os.environ)
    env.update(job.env or {})
    with open(err_file, "wb") as err:
        t0 = time.perf_counter()
        # Own process group, so a timeout or an interrupt kills the tool, not just `time`.
        p = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            env=env, cwd=job.cwd, start_new_session=True,
        )
        # A blocking wait: Popen.wait(timeout) polls with sleeps of up to 50 ms, which would
        # quantise the timings. SIGALRM bounds it instead (no helper thread, so SIGTERM is
        # delivered to this thread and interrupts the wait at once).
        signal.alarm(RUN_TIMEOUT_S)
        try:
            rc = p.wait()
        except RunTimeout:
            kill_group(p)
            rc = "timeout"
        except BaseException:
            kill_group(p)
            raise
        finally:
            signal.alarm(0)
        elapsed = (time.perf_counter() - t0) * 1000
    rss = 0
    try:
        lines = [ln for ln in rss_file.read_text().splitlines() if ln.strip()]
        rss = int(lines[-1])
    except (OSError, ValueError, IndexError):
        pass
    failure = None
    if rc != 0:
        tail = err_file.read_text(errors="replace").strip().splitlines()[-3:]
        failure = f"exit {rc}: " + " | ".join(tail)[:300]
    if out_dir is not None:
        shutil.rmtree(out_dir, ignore_errors=True)
    return elapsed, rss, failure


def measure(jobs: list[Job], runs: int, warmup: int, tmp: Path, log) -> list[Result]:
    """Runs the jobs of one workload interleaved (A B C A B C …) so drift hits all alike."""
    results = [Result(j) for j in jobs]
    for i in range(warmup + runs):
        for r in results:
            ms, rss, failure = run_once(r.job, tmp, i)
            if failure:
                r.failures.append(failure)
                log(f"  {r.job.tool:<9} {r.job.workload:<22} run {i + 1}: FAILED {failure}")
                continue
            if i >= warmup:
                r.times_ms.append(ms)
                r.rss_kb.append(rss)
            log(f"  {r.job.tool:<9} {r.job.workload:<22} run {i + 1}{' (warm-up)' if i < warmup else ''}: "
                f"{ms:8.1f} ms {rss / 1024:6.1f} MB")
    return results


# ----------------------------------------------------------------------------- machine


def sh(cmd: list[str], **kw) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(root: Path, tools: dict) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MB"
    except OSError:
        pass
    commit = ""
    try:  # read-only look at the checkout, for comparing two commits' JSON files
        head = (root / ".git" / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            p = root / ".git" / ref
            commit = (p.read_text().strip() if p.exists() else ref)
        else:
            commit = head
    except OSError:
        pass
    versions = {}
    for name, binary in tools.items():
        if binary:
            versions[name] = sh([binary, "--version"]).splitlines()[0:1]
    qtscen = tools.get("qtscen")
    sha = ""
    if qtscen and Path(qtscen).exists():
        sha = hashlib.sha256(Path(qtscen).read_bytes()).hexdigest()[:16]
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nproc": sh(["nproc"]) or str(os.cpu_count()),
        "cpu_model": cpu,
        "mem_total": mem,
        "kernel": platform.release(),
        "os": sh(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "commit": commit,
        "qtscen_sha256_16": sha,
        "versions": {k: (v[0] if v else "") for k, v in versions.items()},
    }


def measure_w6(a, base: str, files: Path, out: Path, tmp: Path, runs: int, warmup: int,
               notes: list[str], log) -> list[Result]:
    """W6: the 1,000,000-order walk and its reconciliation against ClickHouse."""
    ch = w6.ClickHouse(Path(a.root))
    try:
        try:
            ch.start()
            rows = ch.load()
        except (OSError, subprocess.SubprocessError, ValueError) as e:
            notes.append(f"W6: ClickHouse could not be started here ({e}); W6 skipped")
            return []
        log(f"W6: ClickHouse {ch.port}: {rows} orders in {w6.W6_TABLE}")
        url = f"{base}/w6/orders"
        (files / "w6.yaml").write_text(
            w6.scenario(url, ch.url(), WINDOW_FROM.isoformat(), WINDOW_TO.isoformat()))
        jobs = [
            Job("baseline", "W6 1M orders", [a.baseline, "w6", url, WINDOW_FROM.isoformat(),
                                             WINDOW_TO.isoformat(), ch.url(), w6.W6_TABLE,
                                             str(w6.W6_PAGES + 100)], w6.W6_PAGES),
            Job("qtscen", "W6 1M orders", [a.qtscen, "run", str(files / "w6.yaml"), "--out", "{OUT}"],
                w6.W6_PAGES, "W6 1M orders", out / "w6"),
        ]
        log("W6: 5,000-page walk of 1,000,000 orders, payed_at checked, reconciled by id with ClickHouse")
        found = measure(jobs, runs, warmup, tmp, log)
        notes.append(f"W6: {w6.W6_PAGES} pages of {w6.W6_PER_PAGE} orders, every payed_at in the window; "
                     f"ClickHouse holds {rows} of them (17 missing), and both tools must find the 17")
        return found
    finally:
        ch.stop()


# ----------------------------------------------------------------------------- main


def fmt(x: float | None, spec: str) -> str:
    if x is None or x != x:
        return "—"
    return format(x, spec)


def compare(a_path: str, b_path: str) -> int:
    """Prints the medians of two --json files side by side (A = before, B = after)."""
    a, b = (json.loads(Path(p).read_text()) for p in (a_path, b_path))
    for name, d in (("A", a), ("B", b)):
        m = d["machine"]
        print(f"{name}: {Path(a_path if name == 'A' else b_path).name}  {m.get('date_utc')}  commit "
              f"{m.get('commit', '')[:12]}  qtscen {m.get('qtscen_sha256_16')}  {m.get('cpu_model')} "
              f"x{m.get('nproc')}  load {m.get('loadavg_start')}")
    rows_b = {(r["tool"], r["workload"]): r for r in b["results"]}
    print(f"{'tool':<9} {'workload':<13} {'A ms':>9} {'B ms':>9} {'B/A':>6} {'A x base':>9} {'B x base':>9} "
          f"{'A MB':>7} {'B MB':>7}")
    for ra in a["results"]:
        rb = rows_b.pop((ra["tool"], ra["workload"]), None) or {}
        ma, mb = ra.get("median_ms"), rb.get("median_ms")
        print(f"{ra['tool']:<9} {ra['workload']:<13} {fmt(ma, '.1f'):>9} {fmt(mb, '.1f'):>9} "
              f"{fmt(mb / ma if ma and mb else None, '.2f'):>6} {fmt(ra.get('ratio_to_baseline'), '.2f'):>9} "
              f"{fmt(rb.get('ratio_to_baseline'), '.2f'):>9} {fmt(ra.get('peak_rss_mb'), '.1f'):>7} "
              f"{fmt(rb.get('peak_rss_mb'), '.1f'):>7}")
    for rb in rows_b.values():
        print(f"{rb['tool']:<9} {rb['workload']:<13} {'—':>9} {fmt(rb.get('median_ms'), '.1f'):>9}")
    return 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        return compare(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "--slow-server":
        return serve_slow(int(sys.argv[2]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tmp", required=True, help="temp dir (created and removed by run.sh)")
    ap.add_argument("--root", required=True, help="the crate's root")
    ap.add_argument("--qtscen", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--hurl", default="")
    ap.add_argument("--tavern-python", default="", help="a python with tavern installed")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 runs, no warm-up: a smoke check")
    ap.add_argument("--json", default="", help="also write the results as JSON here")
    ap.add_argument("--workloads", default="W0,W1,W2,W3,W4,W5,W6")
    ap.add_argument("--note", action="append", default=[], help="a note to print and store")
    a = ap.parse_args()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGALRM, _on_alarm)
    runs, warmup = (2, 0) if a.quick else (max(1, a.runs), 1)
    if not a.quick and a.runs < 5:
        print(f"note: --runs {a.runs} is below 5; medians are less stable", file=sys.stderr)
    wanted = {w.strip().upper() for w in a.workloads.split(",") if w.strip()}
    tmp = Path(a.tmp)
    notes: list[str] = list(a.note)
    load_start = os.getloadavg()[0]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    www = tmp / "www"
    data = write_data(www)
    if "W6" in wanted:
        log(f"W6: writing {w6.W6_PAGES} pages of {w6.W6_PER_PAGE} orders")
        data.update(w6.write_pages(www, WINDOW_FROM, WINDOW_TO))
    files = tmp / "in"
    files.mkdir()
    out = tmp / "out"
    out.mkdir()
    server = Nginx(tmp, www, a.nginx)
    slow = SlowServer(tmp)
    results: list[Result] = []
    w4_mode = ""
    ncpu = os.cpu_count() or 1
    try:
        # W0, W3 and W5 need no nginx.
        if wanted & {"W1", "W2", "W4", "W6"}:
            server.start()
            log(f"nginx {server.port}: W2 pages ~{data['w2_page_bytes_avg'] / 1024:.1f} KB each, "
                f"{data['w2_total_bytes'] / 1024:.0f} KB in all")
        base = f"http://127.0.0.1:{server.port}"
        q, bl = a.qtscen, a.baseline
        tavern_env = {"PYTHONPATH": str(files), "PYTHONDONTWRITEBYTECODE": "1"}

        def tavern_cmd(path: Path) -> list[str]:
            return [a.tavern_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
                    "addopts=", "--rootdir", str(files), str(path)]

        if "W0" in wanted:
            jobs = [Job("baseline", "W0 startup", [bl, "--version"]),
                    Job("qtscen", "W0 startup", [q, "--version"], baseline_of="W0 startup")]
            if a.hurl:
                jobs.append(Job("hurl", "W0 startup", [a.hurl, "--version"], baseline_of="W0 startup"))
            log("W0: startup (--version)")
            results += measure(jobs, max(runs, 10 if not a.quick else 2), warmup, tmp, log)

        if "W1" in wanted:
            url = f"{base}/w1/item.json"
            (files / "w1.yaml").write_text(scenario_w1(url, W1_REQUESTS, "bench_w1"))
            jobs = [
                Job("baseline", "W1 500 GETs", [bl, "w1", url, str(W1_REQUESTS)], W1_REQUESTS),
                Job("qtscen", "W1 500 GETs", [q, "run", str(files / "w1.yaml"), "--out", "{OUT}"],
                    W1_REQUESTS, "W1 500 GETs", out / "w1"),
            ]
            if a.hurl:
                (files / "w1.hurl").write_text(hurl_w1(url))
                jobs.append(Job("hurl", "W1 500 GETs", [a.hurl, "--test", "--jobs", "1", "--no-color",
                                                         str(files / "w1.hurl")], W1_REQUESTS, "W1 500 GETs"))
            if a.tavern_python:
                (files / "test_w1.tavern.yaml").write_text(tavern_w1(url))
                jobs.append(Job("tavern", "W1 500 GETs", tavern_cmd(files / "test_w1.tavern.yaml"),
                                W1_REQUESTS, "W1 500 GETs", env=tavern_env, cwd=files))
            log("W1: 500 sequential GETs, one JSONPath assertion each")
            results += measure(jobs, runs, warmup, tmp, log)

        if "W2" in wanted:
            url = f"{base}/w2/orders"
            (files / "w2.yaml").write_text(scenario_w2(url))
            jobs = [
                Job("baseline", "W2 50 pages", [bl, "w2", url, WINDOW_FROM.isoformat(),
                                                WINDOW_TO.isoformat(), "60"], W2_PAGES),
                Job("qtscen", "W2 50 pages", [q, "run", str(files / "w2.yaml"), "--out", "{OUT}"],
                    W2_PAGES, "W2 50 pages", out / "w2"),
            ]
            if a.hurl:
                (files / "w2.hurl").write_text(hurl_w2(url))
                jobs.append(Job("hurl", "W2 50 pages", [a.hurl, "--test", "--jobs", "1", "--no-color",
                                                         str(files / "w2.hurl")], W2_PAGES, "W2 50 pages"))
            if a.tavern_python:
                (files / "test_w2.tavern.yaml").write_text(tavern_w2(url))
                (files / "bench_tavern_ext.py").write_text(TAVERN_EXT)
                jobs.append(Job("tavern", "W2 50 pages", tavern_cmd(files / "test_w2.tavern.yaml"),
                                W2_PAGES, "W2 50 pages", env=tavern_env, cwd=files))
            log("W2: 50-page walk, 10,000 payed_at in a window, ids collected")
            results += measure(jobs, runs, warmup, tmp, log)

        if "W3" in wanted:
            (files / "w3.yaml").write_text(scenario_w3(W3_STEPS))
            jobs = [Job("qtscen", "W3 validate", [q, "validate", str(files / "w3.yaml")]),
                    Job("qtscen", "W3 plan", [q, "plan", str(files / "w3.yaml")])]
            log("W3: validate and plan of a 1,000-step scenario")
            results += measure(jobs, runs, warmup, tmp, log)

        if "W4" in wanted:
            url = f"{base}/w1/item.json"
            (files / "w4.yaml").write_text(scenario_w1(url, W4_ATTEMPTS, "bench_w4"))
            helptext = sh([q, "--help"])
            has_render = any(line.strip().startswith("render") for line in helptext.splitlines())
            if has_render:
                w4_mode = "render"
                run_dir = out / "w4-run"
                log("W4: one 10,000-request run to produce results.json (not timed)")
                ms, _rss, failure = run_once(Job("qtscen", "W4 setup", [q, "run", str(files / "w4.yaml"),
                                                                      "--out", str(run_dir)]), tmp, 0)
                if failure or not (run_dir / "results.json").exists():
                    notes.append(f"W4: the 10,000-request run failed ({failure}); render not measured")
                else:
                    notes.append(f"W4: the 10,000-request run that produced results.json took {ms:.0f} ms "
                                 f"({(run_dir / 'results.json').stat().st_size / 1e6:.1f} MB results.json)")
                    jobs = [Job("qtscen", "W4 render", [q, "render", str(run_dir)])]
                    log("W4: qtscen render of a 10,000-attempt run folder")
                    results += measure(jobs, runs, warmup, tmp, log)
            else:
                w4_mode = "run"
                notes.append("W4: `qtscen render` does not exist in this build, so W4 times the whole "
                             "10,000-request run (requests + recording + report), against the baseline "
                             "doing the same 10,000 GETs")
                jobs = [
                    Job("baseline", "W4 10k run", [bl, "w1", url, str(W4_ATTEMPTS)], W4_ATTEMPTS),
                    Job("qtscen", "W4 10k run", [q, "run", str(files / "w4.yaml"), "--out", "{OUT}"],
                        W4_ATTEMPTS, "W4 10k run", out / "w4"),
                ]
                log("W4: 10,000-request run (no `qtscen render` in this build; no warm-up, it is long)")
                results += measure(jobs, runs, 0, tmp, log)

        if "W5" in wanted:
            slow.start()
            sbase = f"http://127.0.0.1:{slow.port}"
            d400 = write_w5(files, sbase, W5_DELAY_MS)
            d200 = write_w5(files, sbase, W5_THROUGHPUT_DELAY_MS)
            n = W5_SCENARIOS
            jobs = [
                Job("qtscen", "W5 1 scenario", [q, "run", str(d400 / "s01.yaml"), "--out", "{OUT}"],
                    W5_REQUESTS, out_dir=out / "w5-one"),
                Job("qtscen", "W5 20 -j 20", [q, "run", str(d400), "-j", str(n), "--out", "{OUT}"],
                    n * W5_REQUESTS, out_dir=out / "w5-j20"),
                Job("qtscen", "W5 20 -j 1", [q, "run", str(d400), "-j", "1", "--out", "{OUT}"],
                    n * W5_REQUESTS, out_dir=out / "w5-j1"),
                Job("qtscen", f"W5 20 -j {ncpu} 200ms", [q, "run", str(d200), "-j", str(ncpu), "--out", "{OUT}"],
                    n * W5_REQUESTS, out_dir=out / "w5-cpus"),
            ]
            log(f"W5: {n} scenarios x {W5_REQUESTS} GETs, server answers after {W5_DELAY_MS} ms "
                f"(and {W5_THROUGHPUT_DELAY_MS} ms at -j {ncpu}); no warm-up, -j 1 is long")
            results += measure(jobs, runs, 0, tmp, log)
        if "W6" in wanted:
            results += measure_w6(a, base, files, out, tmp, runs, warmup, notes, log)
    except (KeyboardInterrupt, Interrupted) as e:
        log(f"interrupted ({e}); stopping nginx")
        return 130
    finally:
        server.stop()
        slow.stop()

    # Ratios and per-request overhead against the baseline row of the same workload.
    base_rows = {r.job.workload: r for r in results if r.job.tool == "baseline" and r.times_ms}
    for r in results:
        b = base_rows.get(r.job.baseline_of or "")
        if b and r.times_ms:
            r.ratio = r.median_ms / b.median_ms
            if r.job.requests:
                r.overhead_ms = (r.median_ms - b.median_ms) / r.job.requests
        elif r.job.tool == "baseline" and r.times_ms:
            r.ratio = 1.0
    # W5: -j 20 against one scenario alone, -j 1 against the sum of 20 alone.
    w5 = {r.job.workload: r for r in results if r.job.workload.startswith("W5") and r.times_ms}
    one = w5.get("W5 1 scenario")
    if one:
        for name, times in (("W5 20 -j 20", 1), ("W5 20 -j 1", W5_SCENARIOS)):
            if name in w5:
                w5[name].ratio = w5[name].median_ms / (one.median_ms * times)
        notes.append(f"W5: x is against `W5 1 scenario` ({one.median_ms:.0f} ms median, slowest "
                     f"{max(one.times_ms):.0f} ms): -j 20 / one scenario (target <= 1.2), -j 1 / "
                     f"{W5_SCENARIOS} x one scenario (about 1: the sum)")
    cpus = next((r for name, r in w5.items() if name.endswith("200ms")), None)
    if cpus:
        per_min = W5_SCENARIOS / (cpus.median_ms / 60000)
        notes.append(f"W5: at -j {ncpu} (the CPUs) against a {W5_THROUGHPUT_DELAY_MS} ms server, "
                     f"{W5_SCENARIOS} scenarios of {W5_REQUESTS} requests take {cpus.median_ms:.0f} ms: "
                     f"{per_min:.0f} scenarios per minute")

    if a.hurl:
        notes.append("Hurl W2: no pagination loop (50 fixed entries; has_next asserted per page); the "
                     "window is checked with a JSONPath filter comparing payed_at as strings "
                     "(`$.data[?(@.payed_at >= 'FROM' && @.payed_at < 'TO')] count == 200` and "
                     "`$.data count == 200`) plus isIsoDate on one value per page — valid here only because every value has the same +03:00 "
                     "offset and width; Hurl has no per-element datetime-range predicate. ids are "
                     "captured per page.")
    if a.tavern_python:
        notes.append("Tavern: runs under pytest (pytest and Tavern start-up is inside the wall time). W1 uses "
                     "`json: {data: {status: ok}}` with strict json:off; W2 has 50 fixed stages and a "
                     "Python ext function parsing every payed_at with datetime.fromisoformat and "
                     "collecting ids.")

    # Table.
    head = ["tool", "workload", "runs", "median ms", "min ms", "x baseline", "ovh/req ms",
            "peak RSS MB", "target", "status"]
    rows = []
    for r in results:
        target = ""
        t = TARGETS.get((r.job.tool, r.job.workload))
        if t and r.times_ms:
            target = f"{t[0]} {'ok' if t[1](r) else 'MISS'}"
        status = "ok" if not r.failures else f"FAILED {len(r.failures)}x"
        rows.append([r.job.tool, r.job.workload, str(len(r.times_ms)), fmt(r.median_ms, ".1f"),
                     fmt(r.min_ms, ".1f"), fmt(r.ratio, ".2f"), fmt(r.overhead_ms, ".3f"),
                     fmt(r.peak_rss_mb, ".1f"), target, status])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    tools = {"qtscen": a.qtscen, "baseline": a.baseline, "nginx": None, "hurl": a.hurl or None}
    info = machine_info(Path(a.root), tools)
    info["versions"]["nginx"] = sh(["sh", "-c", f"'{a.nginx}' -v 2>&1"]) if a.nginx else ""
    if a.tavern_python:
        info["versions"]["tavern"] = sh([a.tavern_python, "-c",
                                         "import importlib.metadata as m; print(m.version('tavern'))"])
    info["loadavg_start"] = round(load_start, 2)
    info["loadavg_end"] = round(os.getloadavg()[0], 2)
    print()
    print(f"qtscen bench — {info['cpu_model']}, {info['nproc']} CPUs, {info['mem_total']}, "
          f"Linux {info['kernel']}, {info['os']}; loadavg {info['loadavg_start']:.2f} -> "
          f"{info['loadavg_end']:.2f}; runs {runs} (+{warmup} warm-up), median wall time")
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) if 2 <= i <= 7 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    print()
    if max(info["loadavg_start"], info["loadavg_end"]) > 0.5 * ncpu:
        print(f"warning: load average {info['loadavg_start']:.2f} -> {info['loadavg_end']:.2f} on {ncpu} "
              "CPUs: something else was running, the timings are noisy (compare min ms, or re-run)")
    print("x baseline = median / the raw reqwest baseline's median on the same workload; ovh/req = "
          "(median - baseline median) / requests. Wall time includes process start-up.")
    for n in notes:
        print(f"note: {n}")
    for r in results:
        for f in r.failures[:2]:
            print(f"failure: {r.job.tool} {r.job.workload}: {f}")

    if a.json:
        doc = {
            "machine": info,
            "config": {"runs": runs, "warmup": warmup, "quick": a.quick, "w4_mode": w4_mode,
                       "w1_requests": W1_REQUESTS, "w2_pages": W2_PAGES, "w2_per_page": W2_PER_PAGE,
                       "w3_steps": W3_STEPS, "w4_attempts": W4_ATTEMPTS,
                       "w5_scenarios": W5_SCENARIOS, "w5_requests": W5_REQUESTS,
                       "w5_delay_ms": W5_DELAY_MS, "w5_throughput_delay_ms": W5_THROUGHPUT_DELAY_MS,
                       "w6_pages": w6.W6_PAGES, "w6_per_page": w6.W6_PER_PAGE,
                       **data},
            "results": [
                {"tool": r.job.tool, "workload": r.job.workload, "runs": len(r.times_ms),
                 "median_ms": round(r.median_ms, 2) if r.times_ms else None,
                 "min_ms": round(r.min_ms, 2) if r.times_ms else None,
                 "times_ms": [round(t, 2) for t in r.times_ms],
                 "ratio_to_baseline": round(r.ratio, 3) if r.ratio is not None else None,
                 "overhead_per_request_ms": round(r.overhead_ms, 4) if r.overhead_ms is not None else None,
                 "peak_rss_mb": round(r.peak_rss_mb, 1) if r.rss_kb else None,
                 "requests": r.job.requests, "failures": r.failures}
                for r in results
            ],
            "notes": notes,
        }
        Path(a.json).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {a.json}")
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
