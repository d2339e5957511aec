"""Developer sessions: ``nox -s tests lint typecheck`` (and ``bench``, ``contract``, ``soak``)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.10", "3.11", "3.12"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite (protocol tests against loopback servers and the emulator)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "vonage_async", "tests", "examples", "benchmarks", "noxfile.py")
    session.run(
        "ruff", "format", "--check", "vonage_async", "tests", "examples", "benchmarks", "noxfile.py"
    )


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "vonage_async")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (about 3 minutes; ``nox -s bench -- --quick`` for a smoke run)."""
    session.install("-e", ".[dev,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def contract(session: nox.Session) -> None:
    """The official OpenAPI files: Schemathesis against the emulator, and every SDK operation
    against Prism, static and dynamic with three seeds (Prism needs npm; skipped without)."""
    session.install("-e", ".[dev]")
    session.run("bash", "tests/contract/run.sh", external=True, env={"PYTHON": "python"})


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (guides from the README, reference from the docstrings), strict."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict")


@nox.session
def package(session: nox.Session) -> None:
    """Build the wheel and sdist, check them, install the wheel alone and run the demo briefly."""
    session.install("build", "twine")
    session.run("bash", ".ci/package.sh", external=True, env={"PYTHON": "python"})


@nox.session
def soak(session: nox.Session) -> None:
    """The chaos soak of both watchers, longer than CI's 30 s: ``nox -s soak -- --minutes 10``
    (``--seed N`` replays a run, ``--watcher live_status`` runs one)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "tests.soak", *session.posargs)
