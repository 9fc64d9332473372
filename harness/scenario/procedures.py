"""The names runbook procedures may use (respond: steps). What each one does lives in
harness/runbooks/actions.py; this module holds only the names, so the loader can validate files without it."""

from __future__ import annotations

GATHERERS = {
    "process-status": "is the node's process (or container) running",
    "node-log": "the last lines of the node's log",
    "host-memory": "MemAvailable / MemTotal of the host (/proc/meminfo)",
    "ping": "PING the node, with its round trip",
    "slowlog": "SLOWLOG GET 25",
    "info-memory": "INFO memory",
    "info-clients": "INFO clients",
    "info-persistence": "INFO persistence",
    "info-stats": "INFO stats (evicted_keys, hits and misses)",
    "info-replication": "INFO replication (role, primary link, offsets)",
    "client-list": "CLIENT LIST",
    "memory-doctor": "MEMORY DOCTOR",
    "latency-doctor": "LATENCY DOCTOR",
    "big-keys": "the biggest keys, by SCAN and MEMORY USAGE",
    "maxclients": "CONFIG GET maxclients",
}

REMEDIATIONS = {
    "script-kill": "SCRIPT KILL",
    "shutdown-nosave-failover": (
        "SHUTDOWN NOSAVE, let Sentinel fail over, start the node again (it rejoins as a replica)"
    ),
    "set-maxmemory-policy": "CONFIG SET maxmemory-policy <argument>",
    "restore-snapshot-dir": "CONFIG SET dir back to the node's data directory, then BGSAVE",
    "restart-node": "restart the node's process or container",
    "restart-if-down": "start the node again if its process (or container) is not running; nothing otherwise",
    "repair-aof": "redis-check-aof --fix on the node's AOF (what it cuts off is lost), then start the node",
    "route-to-primary": "ask Sentinel for the current primary and send the pinned client's writes there",
    "kill-slow-clients": "CLIENT KILL of clients whose last command walks a keyspace (KEYS, SMEMBERS ...)",
    "kill-idle-clients": "CLIENT KILL of ordinary clients idle 2 s or more (not replicas or Sentinel links)",
}

TRIGGERS = {
    "reply": "a probe write (or read) to the incident's node gets this error reply (BUSY, OOM, ...)",
    "memory_above": "the node's used_memory / maxmemory crosses this ratio",
    "clients_above": "the node's connected_clients / maxclients crosses this ratio",
    "latency_above": "a probe write takes longer than this duration",
    "unreachable": "true: the node does not answer at all",
    "after": "this long after the incident (an on-call engineer starting on a page)",
    "alert": "Alertmanager pages about this alert for the node (needs alerts: {page: true})",
}
TRIGGER_OPTIONS = {
    "for": "duration: the condition must hold this long first, like an alert's for: (default 0)",
    "probe": "write | read: what the probe sends; a replica answers writes with READONLY (default write)",
    "within": "duration: give up waiting for the trigger after this long from the incident (default 15s)",
    "state": "firing | resolved: with alert, the page to wait for (default firing)",
}

NEEDS_ARGUMENT = {"set-maxmemory-policy": "an eviction policy such as allkeys-lru"}
