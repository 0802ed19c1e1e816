"""Contact-engine speed, scaling and memory against the fixture dealer sites on loopback.

    .venv/bin/python bench/engine_bench.py [--batch 20] [--concurrency 1,2,4]

The fixture sites (tests/fixture_server.py) run in a process of their own, as a dealer's
server would: neither their CPU nor their memory counts as the engine's.

1. Per dealer: every fixture site whose expected outcome is "submitted", one after the
   other in one warmed-up browser; the median and p95 of the wall time per dealer.
2. Throughput: a batch of --batch dealers (those sites in turn) through
   contacts.cli.run_batch, exactly as `manage.py contact_dealers` runs it, at each
   concurrency; dealers per minute and the speedup over concurrency 1. Browser start-up
   counts, as it does for a real batch. Beside it, the CPU time of this process and
   every process below it (driver, Chromium and its children) per dealer, and how many
   cores that kept busy: on a small machine the batch is bound by CPU, not by waiting.
3. Memory: while the batch runs at the highest concurrency, the proportional set size
   (PSS) of this process plus every process below it (the Playwright driver, all
   Chromium processes) is sampled with psutil every 0.2 s, with a
   breakdown by kind of process at the peak. The target is judged on PSS: it splits the
   pages processes share between them, so the sum is what the batch really holds. RSS,
   which counts every shared page once per process (Chromium's processes share a lot),
   is printed beside it.

Targets: median < 3 s per dealer; concurrency 4 >= 2.5x the dealers per minute of 1;
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

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MEDIAN_S = 3.0
TARGET_SPEEDUP_4 = 2.5
TARGET_PEAK_MB = 600


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealercontact.settings")
    os.environ.setdefault("DEBUG", "1")  # the development settings need no SECRET_KEY
    # The fixture sites are on loopback: allowed, with the egress proxy on as in production.
    os.environ["ALLOWED_PRIVATE_HOSTS"] = "127.0.0.1,localhost"
    os.environ.setdefault("VAR_DIR", var_dir)  # settings create it; keep var/ untouched
    import django

    django.setup()


# --- memory and CPU from the process tree (psutil) ---------------------------------------


# The fixture sites run in a process of their own (below), which is not the engine's.
_not_measured: set[int] = set()


def process_tree(root: int) -> list[int]:
    """`root` and every process below it but the fixture sites'."""
    from contacts.engine.runtime import descendant_pids

    return [root, *descendant_pids(root, skip=_not_measured)]


def process_kind(process: psutil.Process) -> str:
    """What a process of the batch is: python, node (Playwright's driver), or a Chromium
    process by its --type (browser, renderer, gpu-process, zygote, utility:<service>)."""
    # Chromium's child processes rewrite their command line as one spaced string.
    args = " ".join(process.cmdline()).split()
    if not args:
        return "other"
    program = os.path.basename(args[0])
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "")
    if not kind:
        return "python" if program.startswith("python") else "node" if program == "node" else (
            "chromium (browser)" if "chrom" in program or "headless" in program else program)
    service = next((a.split("=", 1)[1] for a in args if a.startswith("--utility-sub-type=")), "")
    return f"{kind}:{service.split('.')[0]}" if service else kind


def memory_mb(root: int) -> tuple[float, float, int, dict[str, tuple[float, int]]]:
    """(RSS, PSS, processes, PSS and count by kind of process) of `root` and its descendants."""
    pids = process_tree(root)
    rss = pss = 0.0
    kinds: dict[str, tuple[float, int]] = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            memory = process.memory_full_info()
            kind = process_kind(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # ended while we looked
        rss += memory.rss / 2**20
        own = memory.pss / 2**20
        pss += own
        total, count = kinds.get(kind, (0.0, 0))
        kinds[kind] = (total + own, count + 1)
    return rss, pss, len(pids), kinds


def cpu_seconds(root: int) -> float:
    """CPU time used so far by `root`, its live descendants and the children they reaped."""
    seconds = 0.0
    for pid in process_tree(root):
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds += times.user + times.system + times.children_user + times.children_system
    return seconds


class MemorySampler:
    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peak_rss = self.peak_pss = 0.0
        self.peak_processes = 0
        self.peak_kinds: dict[str, tuple[float, int]] = {}  # at the PSS peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss, count, kinds = memory_mb(os.getpid())
            if pss > self.peak_pss:
                self.peak_pss, self.peak_kinds = pss, kinds
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_processes = max(self.peak_processes, count)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


# --- the dealer sites --------------------------------------------------------------------


class FixtureSitesProcess:
    """tests/fixture_server.py in a process of its own, as a dealer's server would be: in
    this process its Python threads would compete with the engine's for the GIL, and its
    CPU and memory would be counted as the engine's."""

    def __init__(self, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms

    def __enter__(self) -> "FixtureSitesProcess":
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fixture_server.py"), "--latency-ms", str(self.latency_ms)],
            cwd=ROOT,
            stdout=subprocess.PIPE, text=True,
        )
        _not_measured.add(self.process.pid)
        first_line = self.process.stdout.readline()  # "fixture sites at http://127.0.0.1:<port>/<site>/ ..."
        if " at http://" not in first_line:
            self.process.kill()
            raise RuntimeError(f"the fixture server did not start: {first_line!r}")
        self.main_origin = first_line.split(" at ", 1)[1].split("/<site>/", 1)[0]
        return self

    def url(self, site: str) -> str:
        return f"{self.main_origin}/{site}/"

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        self.process.wait(10)


# --- the runs ----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def per_dealer_times(server, sites, customer, options) -> tuple[list[float], list[str]]:
    from contacts.engine import BrowserSession, contact_dealer

    times, surprises = [], []
    with BrowserSession(options) as session:
        contact_dealer(server.url(sites[0]), customer, session=session, options=options)  # start the browser
        plan, egress = session.pool.launch_plan, session.pool.egress
        sandbox = f"on, as {plan.as_user or 'this user'}" if plan.sandboxed else f"OFF ({plan.why_not})"
        print(f"  egress proxy on at {egress.url}, allowing {', '.join(map(str, egress.policy.allowed))}; "
              f"Chromium's sandbox {sandbox}", flush=True)
        for site in sites:
            started = time.perf_counter()
            result = contact_dealer(server.url(site), customer, session=session, options=options)
            times.append(time.perf_counter() - started)
            print(f"  {site:28} {times[-1]:6.2f} s  {result.status}", flush=True)
            if result.status != "submitted":
                surprises.append(f"{site}: {result.status} {result.error}")
    return times, surprises


def batch_run(server, sites, customer, options, size: int, concurrency: int) -> tuple[float, float, list[str]]:
    """(wall seconds, CPU seconds of every process involved, runs that did not submit)."""
    from contacts.cli import Dealer, run_batch

    jobs = [(Dealer(name=sites[i % len(sites)], website=server.url(sites[i % len(sites)]), line=i + 2), customer)
            for i in range(size)]
    from contacts.engine import BrowserSession

    # Held open so the browser outlives run_batch until its CPU time is read: Chromium's
    # renderers are not our descendants' to reap once it has gone, and their time with them.
    with BrowserSession(options):
        cpu_before = cpu_seconds(os.getpid())
        started = time.perf_counter()
        results = run_batch(jobs, options, concurrency)
        wall = time.perf_counter() - started
        cpu = cpu_seconds(os.getpid()) - cpu_before
    surprises = [f"{d.name}: {r.status} {r.error}" for d, r in results if r.status != "submitted"]
    return wall, cpu, surprises


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=20, help="dealers per throughput batch (default 20)")
    parser.add_argument("--concurrency", default="1,2,4", help="comma-separated attempts at once (default 1,2,4)")
    parser.add_argument("--latency-ms", type=int, default=0,
                        help="answer every request this much later, as a dealer's server across the internet "
                             "would (default 0: loopback, where the batch is bound by CPU)")
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
    from tests.fixture_server import load_expectation, site_names

    options = engine_options_from_settings()
    sites = [s for s in site_names() if load_expectation(s)["status"] == "submitted"]
    with FixtureSitesProcess(args.latency_ms) as server:
        if args.latency_ms:
            print(f"Every request to the fixture sites answered {args.latency_ms} ms late", flush=True)
        print(f"Per dealer: {len(sites)} submitting fixture sites, one warmed-up browser", flush=True)
        times, surprises = per_dealer_times(server, sites, STANDARD_CUSTOMER, options)

        walls: dict[int, float] = {}
        cpus: dict[int, float] = {}
        sampler = None
        for level in levels:
            print(f"Batch of {args.batch} at concurrency {level} ...", flush=True)
            if level == levels[-1]:
                with MemorySampler() as sampler:
                    walls[level], cpus[level], batch_surprises = batch_run(
                        server, sites, STANDARD_CUSTOMER, options, args.batch, level)
            else:
                walls[level], cpus[level], batch_surprises = batch_run(
                    server, sites, STANDARD_CUSTOMER, options, args.batch, level)
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
        line += f"   (CPU {cpus[level] / args.batch:.2f} s/dealer, {cpus[level] / walls[level]:.2f} cores busy)"
        if base and level != 1:
            speedup = base / walls[level]
            line += f"   {speedup:.2f}x vs 1"
            if level == 4:
                line += f" (>= {TARGET_SPEEDUP_4}x: {verdict(speedup >= TARGET_SPEEDUP_4)})"
        print(line)
    if sampler:
        print(f"{f'peak PSS, concurrency {levels[-1]} (MB)':44} {sampler.peak_pss:12.0f}   < {TARGET_PEAK_MB} MB: "
              f"{verdict(sampler.peak_pss < TARGET_PEAK_MB)}")
        print(f"{'peak RSS, same run (MB)':44} {sampler.peak_rss:12.0f}   ({sampler.peak_processes} processes at most)")
        print("  at the PSS peak, by kind of process:")
        for kind, (mb, count) in sorted(sampler.peak_kinds.items(), key=lambda item: -item[1][0]):
            print(f"    {kind:40} {mb:7.0f} MB  x{count}")
    print(f"CPUs: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the end")
    if surprises:
        print(f"\n{len(surprises)} runs did not end 'submitted' (their times are still counted):")
        for line in surprises:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
