"""`drill init`: read the team's configuration (files or a live deployment), sort its directives with the
engine's own verdict, write the environment, starter scenario and runbook, and load them back (what is
written must validate)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.clients.live_config import config_of, defaults_of, sentinel_settings
from harness.core.engines import SYSTEM_ENGINE, EngineMissing, find_engine
from harness.core.errors import BackendError, ConfigError, UsageError
from harness.core.loopback import loopback_address
from harness.scenario.engine_verdict import config_verdict
from harness.scenario.loader import load_scenario
from harness.scenario.starter_files import (
    DEFAULT_SENTINELS,
    PASSWORD_ENV,
    Found,
    Skipped,
    environment_text,
    parse_conf,
    parse_sentinel_conf,
    runbook_text,
    scenario_text,
    sort_directives,
    without_secrets,
)

DEFAULT_REPLICAS = 2


@dataclass(frozen=True, slots=True)
class Written:
    found: Found
    files: tuple[Path, Path, Path]  # environment, scenario, runbook
    carried: tuple[tuple[str, str], ...]
    skipped: tuple[Skipped, ...]
    password_env: str = PASSWORD_ENV


def write_starter(
    directory: Path,
    name: str | None,
    force: bool,
    conf: Path | None = None,
    sentinel_conf: Path | None = None,
    redis_address: str | None = None,
    sentinel_address: str | None = None,
    master: str | None = None,
    password: str | None = None,
) -> Written:
    if conf is not None:
        found = _from_files(conf, sentinel_conf)
    elif redis_address is not None:
        found = _from_redis(redis_address, password)
    else:
        assert sentinel_address is not None and master is not None
        found = _from_sentinel(sentinel_address, master, password)
    name = name or found.master_name
    if not name.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"drill init: --name {name!r}: use letters, digits, '-' and '_' only")
    carried, skipped = sort_directives(found.directives, lambda d: config_verdict(d, SYSTEM_ENGINE))
    files = (
        directory / "environments" / f"{name}.yaml",
        directory / "scenarios" / f"{name}-failover.yaml",
        directory / "runbooks" / f"{name}-failover.yaml",
    )
    existing = [str(f) for f in files if f.exists()]
    if existing and not force:
        raise UsageError(f"drill init: {', '.join(existing)} exist(s); --force overwrites")
    texts = (environment_text(name, found, carried, skipped), scenario_text(name, found), runbook_text(name))
    for path, text in zip(files, texts, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    try:
        load_scenario(files[1])
    except ConfigError as exc:  # what init writes must load: anything else is a bug of init's
        raise BackendError(f"drill init wrote files that do not validate (a bug): {exc}") from None
    return Written(found, files, carried, skipped)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"drill init: cannot read {what} {path}: {exc}") from None


def _from_files(conf: Path, sentinel_conf: Path | None) -> Found:
    directives, password = without_secrets(parse_conf(_read(conf, "redis.conf")))
    master, sentinel = (
        parse_sentinel_conf(_read(sentinel_conf, "sentinel.conf"))
        if sentinel_conf
        else ("mymaster", DEFAULT_SENTINELS)
    )
    source = f"{conf}" + (f" and {sentinel_conf}" if sentinel_conf else "")
    return Found(source, directives, master, sentinel, DEFAULT_REPLICAS, password)


def _address(value: str, flag: str) -> tuple[str, int]:
    try:
        return loopback_address(value)
    except ValueError as exc:
        raise UsageError(f"drill init: {flag} {value}: {exc}") from None


def _set_here(config: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What differs from the same engine's defaults (CONFIG GET * lists every setting)."""
    try:
        defaults = defaults_of(find_engine(SYSTEM_ENGINE).server)
    except EngineMissing as exc:
        raise BackendError(f"drill init: {exc}") from None
    return tuple((k, v) for k, v in sorted(config.items()) if defaults.get(k) != v)


def _from_redis(address: str, password: str | None) -> Found:
    host, port = _address(address, "--from-redis")
    try:
        config, version, replicas = config_of(host, port, password)
    except Exception as exc:  # redis-py's errors, refused connections: said with the address
        raise BackendError(f"drill init: {host}:{port} did not answer CONFIG GET: {exc}") from None
    directives, asks = without_secrets(_set_here(config))
    return Found(
        f"{host}:{port}",
        directives,
        "mymaster",
        DEFAULT_SENTINELS,
        replicas or DEFAULT_REPLICAS,
        asks,
        version,
    )


def _from_sentinel(address: str, master: str, password: str | None) -> Found:
    host, port = _address(address, "--from-sentinel")
    try:
        sentinel, primary, replicas = sentinel_settings(host, port, master, password)
        config, version, _ = config_of(*_address(f"{primary[0]}:{primary[1]}", "its primary"), password)
    except UsageError:
        raise
    except Exception as exc:
        raise BackendError(f"drill init: Sentinel {host}:{port} ({master}): {exc}") from None
    directives, asks = without_secrets(_set_here(config))
    source = f"Sentinel {host}:{port} ({master}, primary {primary[0]}:{primary[1]})"
    return Found(source, directives, master, sentinel, replicas or DEFAULT_REPLICAS, asks, version)
