import pytest

from harness.scenario.durations import Bound, parse_bound, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("10s", 10.0), ("2m", 120.0), ("1.5s", 1.5), ("250us", 0.00025), ("1h", 3600.0)],
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["10x", "10", 10, "", "s", "-1s", True, None, "1 0s"])
def test_bad_durations_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(bad)


def test_bound_sums_names_and_durations() -> None:
    bound = parse_bound("down-after + failover-timeout + 2s")
    assert bound == Bound(2.0, ("down-after", "failover-timeout"))
    assert bound.resolve({"down-after": 1.0, "failover-timeout": 5.0}) == pytest.approx(8.0)
    assert str(bound) == "down-after + failover-timeout + 2.00s"


def test_bound_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="down-after"):
        parse_bound("down-before + 2s")
