"""``make bench``: every part against its baseline, in one run; prints tables, writes results.json.

Each server runs in its own process on loopback. Ratios are ours divided by the
baseline measured minutes apart on the same machine, so they travel between
machines better than absolute numbers do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bench import parts

RESULTS = Path(__file__).resolve().parent / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="how long each load level runs (default 4)"
    )
    parser.add_argument("--only", nargs="*", choices=parts.ALL, help="run only these parts")
    args = parser.parse_args(argv)
    started = time.time()
    results: dict = {"started": started, "seconds_per_level": args.seconds, "parts": {}}
    for name in args.only or parts.ALL:
        print(f"\n== {name} ==", flush=True)
        results["parts"][name] = asyncio.run(parts.ALL[name](args.seconds))
    results["total_seconds"] = round(time.time() - started, 1)
    results["targets"] = parts.targets(results["parts"])
    if results["targets"]:
        print("\ntargets (from the issue), this run")
        for row in results["targets"]:
            print(f"  {row['target']:<50} {row['value']!s:>8}  {row['met']}")
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"\nWrote {RESULTS} in {results['total_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
