"""Contact-engine speed, scaling and memory against the fixture dealer sites on loopback.

    .venv/bin/python bench/engine_bench.py [--batch 20] [--concurrency 1,2,4]
    .venv/bin/python bench/engine_bench.py --heavy [--sites 12] [--rounds 1] [--batch 12]
    .venv/bin/python bench/engine_bench.py --pace [--dwell 5] [--animated] [--sites 12] [--batch 12] [--concurrency 4] [--batch-rounds 1]

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

--heavy, real page weight (bench/page_weight.py): the same fixture dealers served light,
with only a blocking <head> script (the floor) and with real-page weight, interleaved
one at a time in one browser (the order rotating per dealer): the median seconds per
dealer of each, heavy/light against floor/light, then a batch of each at concurrency 4
with its peak PSS. Targets: heavy/light within 1.25x of floor/light; peak PSS heavy
within 10% of light.

--pace, human pace: the same dealers with the human-pace wait off and at --dwell seconds,
interleaved one at a time (seconds per dealer both ways), then a batch each way at each
--concurrency (--batch-rounds times in turn): dealers per minute over the whole batch and
at full stream (steady_rate: without the first and last waves, the time for the first
dealer to come through, which the wait lengthens by its own length), peak PSS, CPU per
dealer.
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
TARGET_HEAVY_OVER_FLOOR = 1.25
TARGET_HEAVY_MEMORY = 1.10


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


def _rollup_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process from /proc/<pid>/smaps_rollup: the kernel's own sums.
    (psutil's memory_full_info walks the whole smaps, thousands of mappings per Chromium
    process: sampling 30 processes that way took most of a core, which the engine then
    did not have.)"""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                values[name] = int(rest.split()[0]) / 1024
    return values["Rss"], values["Pss"]


def memory_mb(root: int) -> tuple[float, float, int, dict[str, tuple[float, int]]]:
    """(RSS, PSS, processes, PSS and count by kind of process) of `root` and its descendants."""
    pids = process_tree(root)
    rss = pss = 0.0
    kinds: dict[str, tuple[float, int]] = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            own_rss, own = _rollup_mb(pid)
            kind = process_kind(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
            continue  # ended while we looked
        rss += own_rss
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


def machine_busy_seconds() -> float:
    """CPU time all of the machine's cores have spent busy since boot (/proc/stat). Unlike
    cpu_seconds it also has the renderers that ended before they were read (their time
    goes to whoever reaps them, outside our tree), and everything else the machine runs:
    a true figure only on a machine running the bench alone."""
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:9]]  # user .. steal (guest is in user)
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


class MemorySampler:
    """Peak memory of this process and everything below it, sampled on a thread; with
    `label` set, the peak of each label's stretch is kept too (interleaved runs)."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.label = ""
        self.peak_by_label: dict[str, float] = {}
        self.interval_s = interval_s
        self.peak_rss = self.peak_pss = 0.0
        self.peak_processes = 0
        self.peak_kinds: dict[str, tuple[float, int]] = {}  # at the PSS peak
        self.cpu_s = 0.0  # this thread's own CPU (reading smaps is not free): not the engine's
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._sample()
        finally:
            self.cpu_s = time.thread_time()

    def _sample(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            rss, pss, count, kinds = memory_mb(os.getpid())
            if self.label:
                self.peak_by_label[self.label] = max(self.peak_by_label.get(self.label, 0.0), pss)
            if pss > self.peak_pss:
                self.peak_pss, self.peak_kinds = pss, kinds
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_processes = max(self.peak_processes, count)
            # At most a fifth of one core: with 30 Chromium processes one sample takes tens of
            # milliseconds of kernel time, which the engine being measured would lose.
            self._stop.wait(max(self.interval_s, 4 * (time.perf_counter() - started)))

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


class PageWeightProcess:
    """bench/page_weight.py in a process of its own: the fixture sites light, floor and
    heavy, and the other hosts the heavy pages load from."""

    def __enter__(self) -> "PageWeightProcess":
        import json
        import subprocess

        self.process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "page_weight.py")], cwd=ROOT,
                                        stdout=subprocess.PIPE, text=True)
        _not_measured.add(self.process.pid)
        first_line = self.process.stdout.readline()
        try:
            self.origins = json.loads(first_line)
        except ValueError:
            self.process.kill()
            raise RuntimeError(f"the page-weight server did not start: {first_line!r}") from None
        return self

    def variant(self, name: str) -> "Variant":
        return Variant(self.origins[name])

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        self.process.wait(10)


class Variant:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def url(self, site: str) -> str:
        return f"{self.origin}/{site}/"


def other_hosts_on_loopback(options, hosts: list[str], port: int, extra_args: str = ""):
    """`options` for the heavy pages' other hosts: the engine's egress proxy (in this
    process) finds each of those names on 127.0.0.1, as DNS would find a real vendor's
    server, and may connect to them on the assets server's port; nothing else changes.
    With `extra_args`, Chromium starts through a small wrapper adding them (to try a flag)."""
    import shlex
    import socket
    from dataclasses import replace

    names = {h.lower() for h in hosts}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.lower().rstrip(".") in names:
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    options = replace(options, allowed_private_hosts=(*options.allowed_private_hosts,
                                                      *(f"{h}:{port}" for h in sorted(names))))
    if not extra_args:
        return options
    from contacts.engine.discovery import find_browser_executable, playwright_bundled_executable

    real = find_browser_executable(options.browser_executable, options.headless) or playwright_bundled_executable()
    wrapper = Path(tempfile.mkdtemp(prefix="engine-bench-browser-")) / "chromium"
    extra = " ".join(shlex.quote(arg) for arg in shlex.split(extra_args))
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" {extra} "$@"\n')
    wrapper.chmod(0o755)
    return replace(options, browser_executable=str(wrapper))


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


def batch_run(server, sites, customer, options, size: int, concurrency: int,
              results_at: list[float] | None = None) -> tuple[float, float, list[str]]:
    """(wall seconds, CPU seconds of every process involved, runs that did not submit);
    `results_at`, if given, gets the seconds from the start at which each result came in."""
    from contacts.cli import Dealer, run_batch
    from contacts.engine import BrowserSession, outcomes

    jobs = [(Dealer(name=sites[i % len(sites)], website=server.url(sites[i % len(sites)]), line=i + 2), customer)
            for i in range(size)]

    def note_result(_position, _dealer, phase: str) -> None:
        if results_at is not None and phase.split(":", 1)[0] in outcomes.OUTCOMES:
            results_at.append(time.perf_counter() - started)

    # Held open so the browser outlives run_batch until its CPU time is read: Chromium's
    # renderers are not our descendants' to reap once it has gone, and their time with them.
    with BrowserSession(options):
        cpu_before = cpu_seconds(os.getpid())
        started = time.perf_counter()
        results = run_batch(jobs, options, concurrency, on_progress=note_result)
        wall = time.perf_counter() - started
        cpu = cpu_seconds(os.getpid()) - cpu_before
    surprises = [f"{d.name}: {r.status} {r.error}" for d, r in results if r.status != "submitted"]
    return wall, cpu, surprises


def steady_rate(results_at: list[float], concurrency: int) -> float | None:
    """Dealers per minute once the batch runs at full stream: from the result that ends
    the first wave (`concurrency` attempts start together, and the human-pace wait makes
    the first of them come through its own length later) to the one where the last wave
    begins to drain, as a worker runs on a stream of dealers. None for a batch too small
    to have such a stretch (at least two attempts beyond two waves)."""
    ordered = sorted(results_at)
    first, last = concurrency - 1, len(ordered) - concurrency - 1
    if last - first < 2 or ordered[last] <= ordered[first]:
        return None
    return (last - first) / (ordered[last] - ordered[first]) * 60


def interleaved_times(variants: dict, sites, customer, options_for: dict, rounds: int,
                      sampler: "MemorySampler | None" = None) -> tuple[dict[str, list[float]], list[str]]:
    """Seconds per dealer for each variant, one attempt at a time in one warmed-up browser,
    the variants taking turns per dealer in an order that rotates, so a busy moment of the
    machine lands on each of them alike."""
    from contacts.engine import BrowserSession, contact_dealer

    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    surprises = []
    first = names[0]
    with BrowserSession(options_for[first]) as session:
        contact_dealer(variants[first].url(sites[0]), customer, session=session, options=options_for[first])
        turn = 0
        for _round in range(rounds):
            for site in sites:
                order = names[turn % len(names):] + names[:turn % len(names)]
                turn += 1
                line = []
                for name in order:
                    if sampler:
                        sampler.label = name
                    started = time.perf_counter()
                    result = contact_dealer(variants[name].url(site), customer, session=session,
                                            options=options_for[name])
                    times[name].append(time.perf_counter() - started)
                    line.append(f"{name} {times[name][-1]:5.2f} s")
                    if result.status != "submitted":
                        surprises.append(f"{name} {site}: {result.status} {result.error}")
                if sampler:
                    sampler.label = ""
                print(f"  {site:28} " + "  ".join(line), flush=True)
    return times, surprises


def heavy_pages(args, options, sites, customer) -> int:
    """The --heavy run: light, floor and heavy pages of the same dealers."""
    sites = sites[:args.sites]
    with PageWeightProcess() as weight:
        options = other_hosts_on_loopback(options, weight.origins["hosts"], weight.origins["assets_port"],
                                          args.browser_args)
        if args.browser_args:
            print(f"Chromium started with {args.browser_args} besides the engine's own flags", flush=True)
        variants = {name: weight.variant(name) for name in ("light", "floor", "heavy")}
        print(f"Per dealer: {len(sites)} submitting fixture sites x {args.rounds} round(s), light/floor/heavy "
              f"interleaved, one at a time", flush=True)
        with MemorySampler() as one_at_a_time:
            times, surprises = interleaved_times(variants, sites, customer, dict.fromkeys(variants, options),
                                                 args.rounds, one_at_a_time)
        level = max(args.levels)
        batches: dict[str, tuple[float, float]] = {}
        cpu_per_dealer: dict[str, float] = {}
        kinds_at_peak: dict[str, dict] = {}
        for name in ("light", "floor", "heavy") * args.batch_rounds:
            print(f"Batch of {args.batch}, {name} pages, concurrency {level} ...", flush=True)
            with MemorySampler() as sampler:
                wall, cpu, batch_surprises = batch_run(variants[name], sites, customer, options, args.batch, level)
            cpu -= sampler.cpu_s
            cpu_per_dealer[name] = min(cpu_per_dealer.get(name, float("inf")), cpu / args.batch)
            best_wall, best_pss = batches.get(name, (float("inf"), 0.0))
            batches[name] = (min(best_wall, wall), max(best_pss, sampler.peak_pss))
            if sampler.peak_pss >= best_pss:
                kinds_at_peak[name] = sampler.peak_kinds
            surprises += [f"(batch {name}) {s}" for s in batch_surprises]

    medians = {name: statistics.median(values) for name, values in times.items()}
    floor_ratio = medians["floor"] / medians["light"]
    heavy_ratio = medians["heavy"] / medians["light"]
    print()
    print(f"{'measure':52} {'result':>10}   target")
    for name in ("light", "floor", "heavy"):
        print(f"{f'median s per dealer, {name} ({len(times[name])} runs)':52} {medians[name]:10.2f}"
              f"   (p95 {percentile(times[name], 0.95):.2f})")
    print(f"{'floor/light (what the blocking <head> script costs)':52} {floor_ratio:10.2f}x")
    print(f"{'heavy/light':52} {heavy_ratio:10.2f}x   <= {TARGET_HEAVY_OVER_FLOOR} x floor "
          f"= {TARGET_HEAVY_OVER_FLOOR * floor_ratio:.2f}x: {verdict(heavy_ratio <= TARGET_HEAVY_OVER_FLOOR * floor_ratio)}")
    print(f"{'peak PSS one at a time, light / heavy (MB)':52} "
          f"{one_at_a_time.peak_by_label.get('light', 0):5.0f} / {one_at_a_time.peak_by_label.get('heavy', 0):.0f}")
    if "light" in batches and "heavy" in batches:
        light_wall, light_pss = batches["light"]
        heavy_wall, heavy_pss = batches["heavy"]
        floor_wall = batches["floor"][0]
        print(f"{f'batch of {args.batch} at {level}: dealers/min light / floor / heavy':52} "
              f"{args.batch / light_wall * 60:5.1f} / {args.batch / floor_wall * 60:.1f} / {args.batch / heavy_wall * 60:.1f}")
        # CPU is what a busy machine distorts least: the work each kind of page costs.
        print(f"{'CPU s per dealer (all processes), light / floor / heavy':52} "
              f"{cpu_per_dealer['light']:5.2f} / {cpu_per_dealer['floor']:.2f} / {cpu_per_dealer['heavy']:.2f}"
              f"   heavy/floor {cpu_per_dealer['heavy'] / cpu_per_dealer['floor']:.2f}x")
        print(f"{f'peak PSS at {level} at once, light / heavy (MB)':52} {light_pss:5.0f} / {heavy_pss:.0f}"
              f"   heavy <= {TARGET_HEAVY_MEMORY:.2f} x light: {verdict(heavy_pss <= TARGET_HEAVY_MEMORY * light_pss)}"
              f" ({heavy_pss / light_pss:.2f}x)")
        print("  at each peak, by kind of process (MB, light / heavy):")
        for kind in sorted(set(kinds_at_peak["light"]) | set(kinds_at_peak["heavy"])):
            light_mb, light_n = kinds_at_peak["light"].get(kind, (0.0, 0))
            heavy_mb, heavy_n = kinds_at_peak["heavy"].get(kind, (0.0, 0))
            print(f"    {kind:40} {light_mb:6.0f} x{light_n} / {heavy_mb:6.0f} x{heavy_n}")
    print(f"CPUs: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the end")
    report_surprises(surprises)
    return 0


def human_pace(args, options, sites, customer) -> int:
    """The --pace run: the same dealers with the human-pace wait off and on."""
    from dataclasses import replace

    sites = sites[:args.sites]
    off, on = replace(options, min_dwell_s=0), replace(options, min_dwell_s=args.dwell)
    with (PageWeightProcess() if args.animated else FixtureSitesProcess(args.latency_ms)) as served:
        server = served.variant("animated") if args.animated else served
        print(f"Per dealer: {len(sites)} submitting fixture sites{' animated' if args.animated else ''}, "
              f"wait off / {args.dwell:g} s interleaved, one at a time", flush=True)
        variants = {"off": server, f"{args.dwell:g} s": server}
        times, surprises = interleaved_times(variants, sites, customer,
                                             {"off": off, f"{args.dwell:g} s": on}, args.rounds)
        rates: dict[tuple[str, int], list[tuple[float, float | None, float, float, float, float]]] = {}
        for level in args.levels:
            for name, opts in (("off", off), (f"{args.dwell:g} s", on)) * args.batch_rounds:
                print(f"Batch of {args.batch}, wait {name}, concurrency {level} ...", flush=True)
                machine_before = machine_busy_seconds()
                results_at: list[float] = []
                with MemorySampler() as sampler:
                    wall, cpu, batch_surprises = batch_run(server, sites, customer, opts, args.batch, level, results_at)
                machine = machine_busy_seconds() - machine_before - sampler.cpu_s
                rates.setdefault((name, level), []).append((
                    args.batch / wall * 60, steady_rate(results_at, level), min(results_at, default=wall),
                    sampler.peak_pss, (cpu - sampler.cpu_s) / args.batch, machine / args.batch))
                surprises += [f"(batch {name}, c={level}) {s}" for s in batch_surprises]
    print()
    print(f"{'measure':52} {'wait off':>10} {f'wait {args.dwell:g} s':>10}")
    names = list(times)
    print(f"{'median s per dealer':52} " + " ".join(f"{statistics.median(times[n]):10.2f}" for n in names))
    print(f"{'p95 s per dealer':52} " + " ".join(f"{percentile(times[n], 0.95):10.2f}" for n in names))
    rows = (("dealers/min, whole batch", 0, "{:10.1f}"), ("  dealers/min at full stream (steady)", 1, "{:10.1f}"),
            ("  first result after (s)", 2, "{:10.1f}"), ("  peak PSS (MB)", 3, "{:10.0f}"),
            ("  CPU s per dealer, all processes", 4, "{:10.2f}"),
            ("  CPU s per dealer, whole machine (/proc/stat)", 5, "{:10.2f}"))
    for level in args.levels:
        for label, column, cell in rows:
            label = f"batch of {args.batch} at {level}: {label}" if column == 0 else label
            print(f"{label:52} " + " ".join("/".join(
                "-" if run[column] is None else cell.format(run[column]).strip() for run in rates[(n, level)]
            ).rjust(10) for n in names))
    # Each way at the concurrency that suits it best (its memory allowing): the wait needs
    # many attempts at once to overlap, without it more than a few only compete for the cores.
    steady = {n: [statistics.median(r) for level in args.levels
                  if None not in (r := [run[1] for run in rates[(n, level)]])] for n in names}
    if all(steady.values()):
        best = {n: max(steady[n]) for n in names}
        print(f"{'steady dealers/min, each at its best concurrency':52} "
              + " ".join(f"{best[n]:10.1f}" for n in names) + f"   wait/off {best[names[1]] / best[names[0]]:.2f}x")
    else:
        print(f"(no full-stream rate: --batch {args.batch} is too small; it takes twice the concurrency plus two)")
    print(f"CPUs: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the end")
    report_surprises(surprises)
    return 0


def report_surprises(surprises: list[str]) -> None:
    if surprises:
        print(f"\n{len(surprises)} runs did not end 'submitted' (their times are still counted):")
        for line in surprises:
            print("  " + line)


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=20, help="dealers per throughput batch (default 20)")
    parser.add_argument("--concurrency", default="1,2,4", help="comma-separated attempts at once (default 1,2,4)")
    parser.add_argument("--latency-ms", type=int, default=0,
                        help="answer every request this much later, as a dealer's server across the internet "
                             "would (default 0: loopback, where the batch is bound by CPU)")
    parser.add_argument("--heavy", action="store_true",
                        help="the real-page-weight run instead: light, floor and heavy pages of the same dealers")
    parser.add_argument("--pace", action="store_true",
                        help="the human-pace run instead: the same dealers with the wait off and at --dwell seconds")
    parser.add_argument("--dwell", type=float, default=5.0, help="--pace: the wait in seconds (default 5)")
    parser.add_argument("--animated", action="store_true",
                        help="--pace: the sites with a real home page's animations (slider, spinner, chat button)")
    parser.add_argument("--sites", type=int, default=12, help="--heavy/--pace: dealers per round (default 12)")
    parser.add_argument("--rounds", type=int, default=1, help="--heavy/--pace: rounds over them (default 1)")
    parser.add_argument("--browser-args", default="",
                        help="--heavy: extra Chromium flags to try, e.g. --blink-settings=imagesEnabled=false")
    parser.add_argument("--batch-rounds", type=int, default=1, choices=(1, 2, 3),
                        help="--heavy/--pace: each batch once, or two or three times in turn (default 1)")
    args = parser.parse_args()
    try:
        levels = sorted({int(n) for n in args.concurrency.split(",")})
    except ValueError:
        parser.error(f"--concurrency must be whole numbers separated by commas, not {args.concurrency!r}")
    if args.batch < 1 or not levels or levels[0] < 1:
        parser.error("--batch and every --concurrency must be at least 1")
    if args.animated and (not args.pace or args.latency_ms):
        parser.error("--animated goes with --pace, and serves the pages without --latency-ms")
    if args.sites < 1 or args.rounds < 1 or args.dwell < 0:
        parser.error("--sites and --rounds must be at least 1, --dwell at least 0")
    args.levels = levels

    setup_django(tempfile.mkdtemp(prefix="engine-bench-"))
    from contacts.cli import engine_options_from_settings
    from tests.engine.conftest import STANDARD_CUSTOMER
    from tests.fixture_server import load_expectation, site_names

    # The speed of the engine itself: the human-pace wait is measured on its own (--pace).
    options = engine_options_from_settings(min_dwell_s=0)
    sites = [s for s in site_names() if load_expectation(s)["status"] == "submitted"
             and not load_expectation(s).get("min_dwell_s")]
    if args.heavy:
        return heavy_pages(args, options, sites, STANDARD_CUSTOMER)
    if args.pace:
        return human_pace(args, options, sites, STANDARD_CUSTOMER)
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
                cpus[level] -= sampler.cpu_s
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
    report_surprises(surprises)
    return 0


if __name__ == "__main__":
    sys.exit(main())
