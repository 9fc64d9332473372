#!/usr/bin/env bash
# The Docker backend's tests need a running Docker Engine. Start Debian's daemon when it is installed but not
# running (a fresh machine where nothing started it); say so when there is none, and the tests that need it
# are skipped with that reason.
set -uo pipefail
docker info >/dev/null 2>&1 && exit 0
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: no Docker Engine on this machine; the Docker backend's tests will be skipped" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "ensure-docker: starting the Docker daemon" >&2
$sudo service docker start >/dev/null 2>&1 || ($sudo dockerd >/tmp/dockerd.log 2>&1 &)
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "ensure-docker: the Docker daemon did not come up (see /tmp/dockerd.log); its tests will be skipped" >&2
exit 0
