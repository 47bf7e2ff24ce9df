"""W6 for bench.py (stdlib only): a walk of 1,000,000 orders in bounded memory.

nginx serves 5,000 generated pages of 200 orders (~125 MB of JSON, W2's page shape);
qtscen walks them with every `payed_at` checked against the window by an `items:`
`all:` assertion, then reconciles the orders by id against a ClickHouse table loaded
with the same orders minus 17 (a throwaway server started by scripts/clickhouse-local.sh).
The raw client (`bench_baseline w6`) does the same walk, the same payed_at check and the
set difference against the ids it reads from ClickHouse.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

W6_PAGES = 5000
W6_PER_PAGE = 200
W6_MISSING = 17
W6_TABLE = "default.w6_orders"

FIRST = ["Анна", "Иван", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Наталья", "Павел"]
LAST = ["Смирнова", "Иванов", "Кузнецова", "Попов", "Соколова", "Лебедев", "Козлова", "Новиков", "Морозова", "Волков"]


def order_id(k: int) -> int:
    return 4_100_000 + k


def missing_ids() -> list[int]:
    """The 17 orders ClickHouse lacks, spread over the walk."""
    total = W6_PAGES * W6_PER_PAGE
    return [order_id((i * total) // W6_MISSING + 11) for i in range(W6_MISSING)]


def write_pages(www: Path, window_from: dt.datetime, window_to: dt.datetime) -> dict:
    """The 5,000 pages, written as W2's are (compact JSON, UTF-8 names)."""
    folder = www / "w6"
    folder.mkdir(parents=True)
    # Less a minute: the jitter of up to 52 s keeps the last orders inside the window.
    span = int((window_to - window_from).total_seconds()) - 60
    total = W6_PAGES * W6_PER_PAGE
    names = [f'{{"name":"{f} {l}"}}' for l in LAST for f in FIRST]
    size = 0
    for n in range(1, W6_PAGES + 1):
        parts = []
        for i in range(W6_PER_PAGE):
            k = (n - 1) * W6_PER_PAGE + i
            t = window_from + dt.timedelta(seconds=(k * span) // total + (k * 7) % 53)
            name = names[(k // 10) % 10 * 10 + k % 10]
            parts.append(
                f'{{"id":{order_id(k)},"payed_at":"{t.isoformat()}","price":{500 + (k * 37) % 9000},'
                f'"client":{name},"status":"paid"}}'
            )
        meta = (f'{{"has_next":{"true" if n < W6_PAGES else "false"},"page":{n},'
                f'"per_page":{W6_PER_PAGE},"total_pages":{W6_PAGES}}}')
        body = ('{"data":[' + ",".join(parts) + '],"meta":' + meta + "}").encode()
        (folder / f"orders-page-{n}.json").write_bytes(body)
        size += len(body)
    return {"w6_total_bytes": size, "w6_orders": total}


class ClickHouse:
    """A throwaway ClickHouse server (scripts/clickhouse-local.sh), stopped by `stop`."""

    def __init__(self, root: Path):
        self.script = root / "scripts" / "clickhouse-local.sh"
        self.dir: Path | None = None
        self.port = 0

    def start(self) -> None:
        # The server runs as its own user: its folder must not be under the bench's 0700
        # temp dir. The script stops it once this process is gone.
        env = dict(os.environ, QTSCEN_CH_WATCH_PID=str(os.getpid()))
        subprocess.run(["bash", str(self.script), "install"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        self.dir = Path(tempfile.mkdtemp(prefix="qtscen-bench-ch-"))
        out = subprocess.run(["bash", str(self.script), "start", str(self.dir)], env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise OSError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else
                          f"clickhouse-local.sh start exited {out.returncode}")
        self.port = int(out.stdout.strip())

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, sql: str, data: bytes | None = None) -> str:
        if data is None:
            req = urllib.request.Request(self.url() + "/", data=sql.encode())
        else:
            q = urllib.parse.urlencode({"query": sql})
            req = urllib.request.Request(f"{self.url()}/?{q}", data=data)
        with urllib.request.urlopen(req, timeout=300) as resp:
            return resp.read().decode()

    def load(self) -> int:
        """The table of every order but the 17: their ids, sent as TSV."""
        self.query(f"CREATE TABLE {W6_TABLE} (id UInt64) ENGINE = MergeTree ORDER BY id")
        lost = set(missing_ids())
        ids = (order_id(k) for k in range(W6_PAGES * W6_PER_PAGE))
        tsv = "".join(f"{i}\n" for i in ids if i not in lost).encode()
        self.query(f"INSERT INTO {W6_TABLE} FORMAT TSV", tsv)
        return int(self.query(f"SELECT count() FROM {W6_TABLE}").strip())

    def stop(self) -> None:
        if self.dir is not None:
            subprocess.run(["bash", str(self.script), "stop", str(self.dir)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            self.port = 0


def scenario(url: str, ch_url: str, window_from: str, window_to: str) -> str:
    return f"""name: bench_w6
vars:
  window_from: "{window_from}"
  window_to: "{window_to}"
defaults:
  sql: {{ url: "{ch_url}" }}
steps:
  - id: orders
    http:
      url: "{url}"
      paginate:
        param: page
        in: query
        until: "not response.json.meta.has_next"
        max_pages: {W6_PAGES + 100}
        collect: "$.data[*]"
    assert:
      - items: "$[*].payed_at"
        all: {{ gte: "{{{{ vars.window_from }}}}", lt: "{{{{ vars.window_to }}}}" }}
  - id: reconcile
    reconcile:
      left: {{ name: API, items: orders, key: row.id }}
      right: {{ name: ClickHouse, sql: "SELECT id FROM {W6_TABLE}", key: row.id }}
    assert:
      - {{ jsonpath: $.only_left, equals: {W6_MISSING} }}
      - {{ jsonpath: $.only_right, equals: 0 }}
"""
