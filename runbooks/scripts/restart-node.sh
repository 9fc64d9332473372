#!/bin/sh
# P1 step (4) "restart if needed", as the team's script: ask the service manager whether the node runs and
# start it if not. Here the service manager is `drill node` (on the Docker backend `docker start` on
# DRILL_CONTAINER would do as well); on a real host it would be systemctl. Then PING it until it answers.
set -eu

status=$(drill node status --run-id "$DRILL_RUN_ID" "$DRILL_NODE")
echo "$status"
case "$status" in
    *"not running"*|*exited*|*created*) drill node start --run-id "$DRILL_RUN_ID" "$DRILL_NODE" ;;
    *) echo "$DRILL_NODE is running: nothing to restart"; exit 0 ;;
esac

cli="$(dirname "$0")/node-cli.sh"

tries=0
until [ "$("$cli" PING 2>/dev/null || true)" = "PONG" ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "$DRILL_NODE does not answer PING"; exit 1; }
    sleep 0.1
done
echo "$DRILL_NODE answers PING"
