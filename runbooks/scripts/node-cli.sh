#!/bin/sh
# redis-cli on the incident's node (DRILL_NODE_HOST, DRILL_NODE_PORT) with the login the drill, or your paging
# tool, puts in the environment: DRILL_USER, the password in REDISCLI_AUTH (which redis-cli reads itself, so it
# never shows in argv), and DRILL_TLS_CA/CERT/KEY. The other scripts here call it: `node-cli.sh PING`.
set -eu
if [ -n "${DRILL_TLS_CA:-}" ]; then
    set -- --tls --cacert "$DRILL_TLS_CA" --cert "$DRILL_TLS_CERT" --key "$DRILL_TLS_KEY" "$@"
fi
if [ -n "${DRILL_USER:-}" ]; then
    set -- --user "$DRILL_USER" "$@"
fi
# DRILL_CLI: the drill engine's own client (or a compatible one); a paging tool may leave it unset.
exec "${DRILL_CLI:-redis-cli}" -h "$DRILL_NODE_HOST" -p "$DRILL_NODE_PORT" --no-auth-warning "$@"
