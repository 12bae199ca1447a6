#!/usr/bin/env bash
# Starts the local services the tests talk to (Redis, PostgreSQL) when they are not already up.
set -uo pipefail
up() { timeout 1 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }
if ! up 6379 && command -v redis-server >/dev/null; then
  echo "[services] starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  echo "[services] starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
for port in 6379 5432; do
  for _ in $(seq 20); do up $port && break; sleep 0.5; done
  up $port || echo "[services] WARNING: nothing listens on 127.0.0.1:$port (tests that need it will skip)"
done
exit 0
