"""Per-peer partitions as real packet drops, with nftables.

Every member of a partition has its own address (local nodes: their own 127.x.y.z; containers: theirs on
the run's network; the clients: the address the harness's connections come from). A cut from group A to
group B is a rule in B's network namespace that drops, at the input hook, every packet whose source is in A
and whose destination is in B: the sender learns nothing (a drop at output would hand it EPERM at once),
established connections stall, and new ones time out, as across a real partition. Each namespace gets one
table named after the run, so heal and `drill cleanup` delete that table and nothing else. Each cut is a base
chain of its own in that table, so the run's watchdog can end one cut (at its fault's `max:`) and leave the
others.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from harness.core.errors import BackendError

TABLE_PREFIX = "drill_"
NEEDS = "partition faults need nftables (Debian: apt-get install nftables) and root (CAP_NET_ADMIN)"


def table_name(run_id: str) -> str:
    return TABLE_PREFIX + run_id.replace("-", "_")


@dataclass(frozen=True, slots=True)
class Member:
    """One party of a partition: its address, and the namespace its packets are received in (a process id
    to enter with nsenter, or None for the harness's own)."""

    name: str
    address: str
    namespace: int | None


def check_rights(into_namespaces: bool = False) -> None:
    """Refuse before anything starts when partitions cannot be made here: no nft, or no right to use it."""
    missing = [tool for tool in ("nft", *(("nsenter",) if into_namespaces else ())) if not shutil.which(tool)]
    if missing:
        raise BackendError(f"{', '.join(missing)} not found: {NEEDS}")
    probe = f"{TABLE_PREFIX}probe_{os.getpid()}"
    try:
        _nft(None, f"add table inet {probe}\ndelete table inet {probe}\n")
    except BackendError as exc:
        raise BackendError(f"cannot create an nftables table ({exc}): {NEEDS}") from None


class Partitions:
    """The partitions of one run: cuts added one by one, all healed at once."""

    def __init__(self, run_id: str) -> None:
        self._table = table_name(run_id)
        self._namespaces: set[int | None] = set()
        self._cuts = 0
        self._new: list[tuple[int | None, str]] = []  # (namespace, chain) of cuts not yet taken

    @property
    def table(self) -> str:
        return self._table

    def cut(self, senders: Iterable[Member], receivers: Iterable[Member]) -> int:
        """Drop every packet from a sender to a receiver; returns how many rules were added."""
        sources = sorted({m.address for m in senders})
        by_namespace: dict[int | None, set[str]] = {}
        for member in receivers:
            by_namespace.setdefault(member.namespace, set()).add(member.address)
        self._cuts += 1
        chain = f"cut_{self._cuts}"
        made = []
        for namespace, destinations in by_namespace.items():
            script = (
                f"add table inet {self._table}\n"
                f"add chain inet {self._table} {chain} "
                "{ type filter hook input priority -10; policy accept; }\n"
                f"add rule inet {self._table} {chain} ip saddr {{ {', '.join(sources)} }} "
                f"ip daddr {{ {', '.join(sorted(destinations))} }} drop\n"
            )
            _nft(namespace, script)
            self._namespaces.add(namespace)
            made.append((namespace, chain))
        self._new += made
        return len(made)

    def take_new_cuts(self) -> list[tuple[int | None, str]]:
        """The (namespace, chain) of each cut made since the last call: what a watchdog would delete."""
        new, self._new = self._new, []
        return new

    def heal(self) -> None:
        """Remove every cut (a namespace that is gone, with its container, has nothing left to remove)."""
        for namespace in sorted(self._namespaces, key=lambda n: -1 if n is None else n):
            delete_table(self._table, namespace)
        self._namespaces.clear()

    @property
    def active(self) -> bool:
        return bool(self._namespaces)


def table_run_ids() -> set[str]:
    """The run ids of the drill tables in the harness's namespace (a killed harness leaves its own)."""
    if shutil.which("nft") is None:
        return set()
    try:
        listed = subprocess.run(
            ["nft", "list", "tables"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    names = [line.split()[-1] for line in listed.stdout.splitlines() if line.startswith("table inet ")]
    return {
        n[len(TABLE_PREFIX) :].replace("_", "-")
        for n in names
        if n.startswith(TABLE_PREFIX) and not n.startswith(f"{TABLE_PREFIX}probe")
    }


def remove_table(run_id: str) -> bool:
    """`drill cleanup`: delete a dead run's table in the harness's namespace (containers take theirs with
    them). True when there was one."""
    if shutil.which("nft") is None:
        return False
    try:
        done = subprocess.run(
            ["nft", "delete", "table", "inet", table_name(run_id)],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def delete_table(table: str, namespace: int | None, chain: str | None = None) -> None:
    """Delete the run's table (or one cut's chain in it) in a namespace. Already gone is fine: the run's
    watchdog may have ended a cut first, and a container's namespace goes with it."""
    what = f"chain inet {table} {chain}" if chain else f"table inet {table}"
    script = (f"flush {what}\n" if chain else "") + f"delete {what}\n"
    try:
        _nft(namespace, script)
    except BackendError:
        if namespace is not None and not os.path.exists(f"/proc/{namespace}"):
            return
        if _exists(table, namespace, chain):
            raise
    if chain and not _chains(table, namespace):
        delete_table(table, namespace)  # the last cut gone: no table of the run is left either


def _chains(table: str, namespace: int | None) -> list[str]:
    command = ["nft", "list", "table", "inet", table]
    if namespace is not None:
        command = ["nsenter", "-t", str(namespace), "-n", *command]
    try:
        listed = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split()[1] for line in listed.stdout.splitlines() if line.strip().startswith("chain ")]


def _exists(table: str, namespace: int | None, chain: str | None) -> bool:
    try:
        _nft(namespace, f"list {'chain' if chain else 'table'} inet {table}{' ' + chain if chain else ''}\n")
    except BackendError:
        return False
    return True


def _nft(namespace: int | None, script: str) -> None:
    command = ["nft", "-f", "-"]
    if namespace is not None:
        command = ["nsenter", "-t", str(namespace), "-n", *command]
    try:
        done = subprocess.run(command, input=script, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendError(f"nft failed: {exc}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise BackendError(f"nft failed: {said[0] if said else f'exit {done.returncode}'}")
