"""Print the contract table: ``python -m tests.contract.table`` (Prism must be installed)."""

from __future__ import annotations

import asyncio
import sys

from ._operations import CASES, FLAWS, SPECS, verify
from ._prism import missing, operations, serve


async def main() -> int:
    reason = missing()
    if reason:
        print(f"SKIPPED: {reason}")
        return 0
    rows, failed = [], 0
    for spec in SPECS:
        cases = [case for case in CASES if case.spec == spec]
        in_file = {str(op) for op in operations(spec)}
        passing = {}
        for dynamic in (False, True):
            async with serve(spec, dynamic=dynamic) as mock:
                for case in cases:
                    problem = await verify(mock, case)
                    mode = "dynamic" if dynamic else "static"
                    if problem:
                        failed += 1
                        print(f"FAIL {spec} {mode} {case.operation}: {problem}")
                    for flaw in FLAWS.pop(case.name, []):
                        print(f"FLAW {spec} {mode} {case.operation}: {flaw}")
                    passing[dynamic] = passing.get(dynamic, 0) + (problem is None)
        covered = len({c.operation for c in cases} & in_file)
        flaws = sum(1 for c in cases if c.flaw)  # see the FLAW lines for the examples
        rows.append(
            (spec, len(in_file), covered, passing.get(False, 0), passing.get(True, 0), flaws)
        )
    print()
    print(
        "| file | operations in file | SDK covers | passing (static) | passing (-d) | file flaws |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
