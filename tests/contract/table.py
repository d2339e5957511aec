"""Print the contract table: ``python -m tests.contract.table`` (Prism must be installed)."""

from __future__ import annotations

import asyncio
import sys

from ._operations import CASES, FLAWS, SPECS, verify
from ._prism import missing, operations, serve
from .test_contract import MODES


async def main() -> int:
    reason = missing()
    if reason:
        print(f"SKIPPED: {reason}")
        return 0
    rows, failed = [], 0
    for spec in SPECS:
        cases = [case for case in CASES if case.spec == spec]
        in_file = {str(op) for op in operations(spec)}
        passing: dict[bool, dict[str, bool]] = {}
        for dynamic, seed in MODES:
            async with serve(spec, dynamic=dynamic, seed=seed or "vonage-async") as mock:
                for case in cases:
                    problem = await verify(mock, case)
                    mode = f"dynamic (seed {seed})" if dynamic else "static"
                    if problem:
                        failed += 1
                        print(f"FAIL {spec} {mode} {case.operation}: {problem}")
                    for flaw in FLAWS.pop(case.name, []):
                        print(f"FLAW {spec} {mode} {case.operation}: {flaw}")
                    # -d counts an operation as passing when it passes with every seed
                    ok = passing.get(dynamic, {case.operation: True}).get(case.operation, True)
                    passing.setdefault(dynamic, {})[case.operation] = ok and problem is None
        covered = len({c.operation for c in cases} & in_file)
        flaws = sum(1 for c in cases if c.flaw)  # see the FLAW lines for the examples
        rows.append(
            (
                spec,
                len(in_file),
                covered,
                sum(passing.get(False, {}).values()),
                sum(passing.get(True, {}).values()),
                flaws,
            )
        )
    print()
    print(
        "| file | operations in file | SDK covers | passing (static) | passing (-d, 3 seeds) "
        "| file flaws |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
