#!/bin/sh
# The team's health check for one node (exit 0 = healthy): it answers PING, and a replica has its link to the
# primary up. A runbook uses it as a verify step (program:), run every second from the incident on.
set -eu

cli="$(dirname "$0")/node-cli.sh"

[ "$("$cli" PING 2>/dev/null || true)" = "PONG" ] || { echo "$DRILL_NODE does not answer PING"; exit 1; }
replication=$("$cli" INFO replication | tr -d '\r')
case "$replication" in
    *role:slave*)
        echo "$replication" | grep -q '^master_link_status:up' || { echo "$DRILL_NODE: link to its primary down"; exit 1; }
        echo "$DRILL_NODE: replica, link up" ;;
    *) echo "$DRILL_NODE: answers, $(echo "$replication" | grep '^role:')" ;;
esac
