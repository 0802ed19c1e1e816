"""Run every benchmark in turn: `make bench` (or `.venv/bin/python bench/run.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Each entry: the script and its arguments.
BENCHMARKS = [["search_bench.py"], ["results_bench.py"], ["engine_bench.py"], ["engine_bench.py", "--heavy"],
              ["engine_bench.py", "--pace"], ["live_bench.py"], ["liveview_bench.py"]]


def main() -> int:
    failed = []
    for script, *arguments in BENCHMARKS:
        name = " ".join([script, *arguments])
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run([sys.executable, str(HERE / script), *arguments], cwd=HERE.parent).returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
