"""A deployment's own commands for its nodes (environment `external.control`): argv templates filled with the
node's address, role and variables, run without a shell unless the team wrote one, each with a timeout.
What each did (argv, exit code, stdout, stderr, how long) goes into the observation log."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping

from harness.core.errors import FaultError
from harness.core.log_records import ControlRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Node
from harness.scenario.model import ControlSpec

OUTPUT_CHARS = 2000  # of stdout and of stderr kept per command: enough for an error, not a log dump


def fill(template: tuple[str, ...], variables: Mapping[str, str], action: str) -> list[str]:
    """The argv for one node: each {name} replaced; a name the node has no value for is an error."""
    try:
        return [word.format_map(variables) for word in template]
    except KeyError as exc:
        known = ", ".join("{" + name + "}" for name in sorted(variables))
        raise FaultError(
            f"control {action}: the template names {{{exc.args[0]}}}, which this node has no value for "
            f"(it has {known}; give it under external.nodes)"
        ) from None
    except (ValueError, IndexError) as exc:
        raise FaultError(f"control {action}: cannot fill the template {list(template)}: {exc}") from None


def node_variables(spec: ControlSpec, node: Node, role: str, announced: str = "") -> dict[str, str]:
    """{node}, {host}, {port}, {role}, and the node's own variables from `external.nodes`, keyed by the
    address it is reached at or the one it announces (`announced`, under external.address_map)."""
    return {
        "node": node.name,
        "host": node.host,
        "port": str(node.port),
        "role": role,
        **spec.variables(announced),
        **spec.variables(node.address),
    }


class Control:
    """Runs the deployment's commands and logs each; a failing or timed-out one raises FaultError."""

    def __init__(self, spec: ControlSpec, log: ObservationLog) -> None:
        self._spec = spec
        self._log = log

    def can(self, action: str) -> bool:
        return self._spec.template(action) is not None

    def argv(
        self, action: str, node: Node, role: str, announced: str = "", extra: Mapping[str, str] | None = None
    ) -> list[str] | None:
        """The command for one action on one node, filled in (None when the environment has none); `extra`:
        the action's own variables ({peers} for isolate)."""
        template = self._spec.template(action)
        if template is None:
            return None
        return fill(template, {**node_variables(self._spec, node, role, announced), **(extra or {})}, action)

    @property
    def timeout(self) -> float:
        return self._spec.timeout

    def run(
        self,
        action: str,
        node: Node,
        role: str,
        check: bool = True,
        announced: str = "",
        extra: Mapping[str, str] | None = None,
    ) -> tuple[float, int | None]:
        """(time.monotonic() when the command started, its exit code; None when it timed out)."""
        argv = self.argv(action, node, role, announced, extra)
        if argv is None:
            raise FaultError(f"cannot {action} {node.name}: the environment's control has no {action}")
        started = time.monotonic()
        t = self._log.now()
        code: int | None
        try:
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=self._spec.timeout, check=False
            )
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            code, out, err = None, exc.stdout or b"", exc.stderr or b""
        except OSError as exc:
            code, out, err = 127, b"", str(exc).encode()
        seconds = time.monotonic() - started
        stderr = err.decode(errors="replace")[-OUTPUT_CHARS:]
        self._log.write(
            ControlRecord(
                t=t,
                kind="control",
                action=action,
                node=node.name,
                argv=argv,
                exit=code,
                stdout=out.decode(errors="replace")[-OUTPUT_CHARS:],
                stderr=stderr,
                seconds=round(seconds, 6),
            )
        )
        if check and code != 0:
            how = f"timed out after {self._spec.timeout:g}s" if code is None else f"exited {code}"
            raise FaultError(
                f"control {action} {node.name}: `{' '.join(argv)}` {how}"
                + (f": {stderr.strip()[-300:]}" if stderr.strip() else "")
            )
        return started, code
