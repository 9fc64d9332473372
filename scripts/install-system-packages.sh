#!/usr/bin/env bash
# Install the system packages drills need (Debian/Ubuntu), only when something is missing.
# --test also installs what the test suite needs on top (headless Chromium, to look at report.html).
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
# Drills that ask for alerts run Prometheus (promtool comes with it) and the Redis exporter.
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-redis-exporter >/dev/null 2>&1 || need+=(prometheus-redis-exporter)
# Drills that page (alerts: {page: true}) run Alertmanager (amtool comes with it).
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# Per-peer partitions drop packets with nftables (nsenter, from util-linux, enters containers' namespaces).
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need+=(nftables)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # The compose lab test; Docker Engine itself is the machine's (the Docker backend needs a running daemon).
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
  # The remote worker test makes a network namespace and a veth pair.
  command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need+=(iproute2)
  # The staging-over-SSH test gives each host it makes (a network namespace) its own sshd.
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
  command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
fi
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${need[*]}; install Redis 6.2+ (redis-server, redis-sentinel, redis-cli) with your package manager" >&2
  exit 1
fi
echo "installing ${need[*]} from Debian packages" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the packaged services where systemd runs; drills start their own processes instead.
for service in redis-server redis-sentinel prometheus prometheus-redis-exporter prometheus-alertmanager ssh; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
done
