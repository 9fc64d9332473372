#!/bin/sh
# OOM runbook, "decide" step, as the on-call engineer would run it: look at the memory, then let Redis evict
# the keys that carry a TTL (volatile-lru) so keys without one are kept. Everything it needs comes from the
# environment the drill (or your paging tool) sets: DRILL_NODE_HOST/PORT, and on secured deployments
# DRILL_USER, REDISCLI_AUTH (redis-cli reads the password from it) and DRILL_TLS_CA/CERT/KEY.
set -eu

cli="$(dirname "$0")/node-cli.sh"

echo "node $DRILL_NODE ($DRILL_NODE_ROLE) at $DRILL_NODE_HOST:$DRILL_NODE_PORT"
"$cli" INFO memory | grep -E '^(used_memory_human|maxmemory_human|maxmemory_policy):' | tr -d '\r'
"$cli" CONFIG SET maxmemory-policy volatile-lru
echo "maxmemory-policy now: $("$cli" CONFIG GET maxmemory-policy | tail -n 1)"
