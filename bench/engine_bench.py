"""Contact-engine speed, scaling and memory against the fixture dealer sites on loopback.

    .venv/bin/python bench/engine_bench.py [--batch 20] [--concurrency 1,2,4]

1. Per dealer: every fixture site whose expected outcome is "submitted", one after the
   other in one warmed-up browser; the median and p95 of the wall time per dealer.
2. Throughput: a batch of --batch dealers (those sites in turn) through
   contacts.cli.run_batch, exactly as `manage.py contact_dealers` runs it, at each
   concurrency; dealers per minute and the speedup over one browser. Browser start-up
   counts, as it does for a real batch.
3. Memory: while the batch runs at the highest concurrency, the proportional set size
   (PSS, /proc/<pid>/smaps_rollup) of this process plus every process below it (the
   Playwright drivers, the browser server, all Chromium processes) is sampled from /proc
   every 0.2 s. The target is judged on PSS: it splits the pages processes share between
   them, so the sum is what the batch really holds. RSS, which counts every shared page
   once per process (Chromium's processes share a lot), is printed beside it.

Targets: median < 3 s per dealer; 4 threads >= 2.5x the dealers per minute of one;
peak PSS < 600 MB. Nothing leaves 127.0.0.1 and no database is used.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MEDIAN_S = 3.0
TARGET_SPEEDUP_4 = 2.5
TARGET_PEAK_MB = 600


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealercontact.settings")
    os.environ.setdefault("DEBUG", "1")  # the development settings need no SECRET_KEY
    os.environ["ALLOW_PRIVATE_TARGETS"] = "1"  # the fixture sites are on loopback
    os.environ.setdefault("VAR_DIR", var_dir)  # settings create it; keep var/ untouched
    import django

    django.setup()


# --- memory from /proc -----------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name may hold spaces and brackets; the fields after it do not.
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        tree.setdefault(parent, []).append(int(entry))
    return tree


def process_tree(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _kib(path: str, field: str) -> int:
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mb(root: int) -> tuple[float, float, int]:
    """(RSS, PSS, processes) of `root` and all its descendants."""
    pids = process_tree(root)
    rss = sum(_kib(f"/proc/{pid}/status", "VmRSS:") for pid in pids)
    pss = sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
    return rss / 1024, pss / 1024, len(pids)


class MemorySampler:
    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peak_rss = self.peak_pss = 0.0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss, count = memory_mb(os.getpid())
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.peak_processes = max(self.peak_processes, count)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


# --- the runs ----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def per_dealer_times(server, sites, customer, options) -> tuple[list[float], list[str]]:
    from contacts.engine import BrowserSession, contact_dealer

    times, surprises = [], []
    with BrowserSession(options) as session:
        contact_dealer(server.url(sites[0]), customer, session=session, options=options)  # start the browser
        for site in sites:
            started = time.perf_counter()
            result = contact_dealer(server.url(site), customer, session=session, options=options)
            times.append(time.perf_counter() - started)
            print(f"  {site:28} {times[-1]:6.2f} s  {result.status}", flush=True)
            if result.status != "submitted":
                surprises.append(f"{site}: {result.status} {result.error}")
    return times, surprises


def batch_run(server, sites, customer, options, size: int, concurrency: int) -> tuple[float, list[str]]:
    from contacts.cli import Dealer, run_batch

    jobs = [(Dealer(name=sites[i % len(sites)], website=server.url(sites[i % len(sites)]), line=i + 2), customer)
            for i in range(size)]
    started = time.perf_counter()
    results = run_batch(jobs, options, concurrency)
    wall = time.perf_counter() - started
    surprises = [f"{d.name}: {r.status} {r.error}" for d, r in results if r.status != "submitted"]
    return wall, surprises


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=20, help="dealers per throughput batch (default 20)")
    parser.add_argument("--concurrency", default="1,2,4", help="comma-separated browser counts (default 1,2,4)")
    args = parser.parse_args()
    try:
        levels = sorted({int(n) for n in args.concurrency.split(",")})
    except ValueError:
        parser.error(f"--concurrency must be whole numbers separated by commas, not {args.concurrency!r}")
    if args.batch < 1 or not levels or levels[0] < 1:
        parser.error("--batch and every --concurrency must be at least 1")

    setup_django(tempfile.mkdtemp(prefix="engine-bench-"))
    from contacts.cli import engine_options_from_settings
    from tests.engine.conftest import STANDARD_CUSTOMER
    from tests.fixture_server import FixtureServer, load_expectation, site_names

    options = engine_options_from_settings()
    sites = [s for s in site_names() if load_expectation(s)["status"] == "submitted"]
    with FixtureServer() as server:
        print(f"Per dealer: {len(sites)} submitting fixture sites, one warmed-up browser", flush=True)
        times, surprises = per_dealer_times(server, sites, STANDARD_CUSTOMER, options)

        walls: dict[int, float] = {}
        sampler = None
        for level in levels:
            print(f"Batch of {args.batch} at concurrency {level} ...", flush=True)
            if level == levels[-1]:
                with MemorySampler() as sampler:
                    walls[level], batch_surprises = batch_run(server, sites, STANDARD_CUSTOMER, options,
                                                              args.batch, level)
            else:
                walls[level], batch_surprises = batch_run(server, sites, STANDARD_CUSTOMER, options,
                                                          args.batch, level)
            surprises += [f"(c={level}) {s}" for s in batch_surprises]

    median, p95 = statistics.median(times), percentile(times, 0.95)
    print()
    print(f"{'measure':44} {'result':>12}   target")
    print(f"{'median s per dealer (' + str(len(times)) + ' sites)':44} {median:12.2f}   < {TARGET_MEDIAN_S:.0f} s: "
          f"{verdict(median < TARGET_MEDIAN_S)}")
    print(f"{'p95 s per dealer':44} {p95:12.2f}")
    base = walls.get(1)
    for level in levels:
        rate = args.batch / walls[level] * 60
        line = f"{f'batch of {args.batch}, concurrency {level}: dealers/min':44} {rate:12.1f}"
        if base and level != 1:
            speedup = base / walls[level]
            line += f"   {speedup:.2f}x vs 1"
            if level == 4:
                line += f" (>= {TARGET_SPEEDUP_4}x: {verdict(speedup >= TARGET_SPEEDUP_4)})"
        print(line)
    if sampler:
        print(f"{f'peak PSS, concurrency {levels[-1]} (MB)':44} {sampler.peak_pss:12.0f}   < {TARGET_PEAK_MB} MB: "
              f"{verdict(sampler.peak_pss < TARGET_PEAK_MB)}")
        print(f"{f'peak RSS, same run (MB)':44} {sampler.peak_rss:12.0f}   ({sampler.peak_processes} processes at most)")
    print(f"CPUs: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the end")
    if surprises:
        print(f"\n{len(surprises)} runs did not end 'submitted' (their times are still counted):")
        for line in surprises:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
