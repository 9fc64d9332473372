# The lab's Sentinel: the drill image (or the one REDIS_DRILL_IMAGE names) plus a writable sentinel.conf.
ARG BASE=redis-drill/redis:local
FROM ${BASE}
COPY sentinel.conf /data/sentinel.conf
