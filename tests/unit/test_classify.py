"""Errors are classified by the reply's first word or by transport; uncertain outcomes are "info"."""

from __future__ import annotations

import pytest
import redis
from redis._parsers.base import BaseParser
from redis.sentinel import MasterNotFoundError

from harness.load.classify import classify
from harness.load.retrying import call_with_policy
from harness.scenario.model import NO_RETRY, RetryPolicy
from harness.scenario.scenario_file import RETRY_PRESETS


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("READONLY You can't write against a read only replica.", "READONLY"),
        ("OOM command not allowed when used memory > 'maxmemory'.", "OOM"),
        ("BUSY Redis is busy running a script.", "BUSY"),
        (
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist",
            "MISCONF",
        ),
        ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", "MASTERDOWN"),
        ("NOSCRIPT No matching script.", "NOSCRIPT"),
        ("EXECABORT Transaction discarded because of previous errors.", "EXECABORT"),
        ("LOADING Redis is loading the dataset in memory", "LOADING"),
        ("NOREPLICAS Not enough good replicas to write.", "NOREPLICAS"),
        ("ERR unknown command 'FOO'", "ERR"),
    ],
)
def test_replies_are_classified_by_first_word(reply: str, error: str) -> None:
    exc = BaseParser.parse_error(reply)  # exactly what redis-py raises for this reply
    result = classify(exc)
    assert (result.error, result.outcome) == (error, "fail")


def test_transport_errors() -> None:
    assert classify(redis.TimeoutError("Timeout reading from socket")).outcome == "info"
    refused = classify(redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused."))
    assert (refused.error, refused.outcome) == ("connection-refused", "fail")
    lost = classify(redis.ConnectionError("Connection closed by server."))
    assert (lost.error, lost.outcome) == ("connection", "info")
    assert classify(MasterNotFoundError("No master found for 'mymaster'")).error == "no-primary"


def test_no_retry_policy_makes_exactly_one_attempt() -> None:
    calls = []

    def failing() -> None:
        calls.append(1)
        raise redis.ConnectionError("Connection closed by server.")

    result = call_with_policy(NO_RETRY, failing)
    assert (len(calls), result.outcome, result.retries) == (1, "info", 0)


def test_policy_retries_only_its_error_classes_and_counts_them() -> None:
    policy = RetryPolicy("test", 3, 0.001, 0.004, ("BUSY",))
    attempts = iter([BaseParser.parse_error("BUSY script"), BaseParser.parse_error("BUSY script"), None])

    def flaky() -> str:
        exc = next(attempts)
        if exc is not None:
            raise exc
        return "OK"

    told: list[str] = []  # each retried error, when its attempt failed (the stats count it in that interval)
    result = call_with_policy(policy, flaky, told.append)
    assert (result.value, result.outcome, result.retries) == ("OK", "ok", 2)
    assert told == ["BUSY", "BUSY"] and result.retried == ("BUSY", "BUSY")
    readonly = call_with_policy(policy, lambda: (_ for _ in ()).throw(BaseParser.parse_error("READONLY x")))
    assert (readonly.outcome, readonly.retries, readonly.error and readonly.error.error) == (
        "fail",
        0,
        "READONLY",
    )


def test_presets_match_the_documented_policies() -> None:
    production, operations = RETRY_PRESETS["production"], RETRY_PRESETS["operations"]
    assert (production.retries, production.base, production.on) == (3, 1.0, ("timeout", "connection"))
    assert (operations.retries, operations.base, operations.on) == (3, 0.5, ("timeout", "connection", "BUSY"))
