"""Benchmarks of the SDK against the baselines users have today: ``python -m benchmarks``.

Each module has ``run(quick: bool) -> Result``; ``python -m benchmarks [names] [--quick]``
runs them and prints one table of SDK figure, baseline figure, ratio, target and verdict.
"""
