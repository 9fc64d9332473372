from __future__ import annotations

import pytest

from harness.run.progress import LiveConsole, PlainConsole, QuietConsole, Status, make_console


def test_plain_status_line_names_load_errors_and_latest_events(capsys: pytest.CaptureFixture[str]) -> None:
    console = PlainConsole()
    events = (
        "+sdown",
        "+odown",
        "+new-epoch",
        "+try-failover",
        "+vote-for-leader",
        "+elected-leader",
        "+switch-master",
    )
    console.status(Status(5.5, 14, 0.0, {"connection-refused": 394}, ("kill primary",), events, 2.125))
    console.status(Status(5.6, 14, 10.0, {}, (), ()))  # within 2 s of the last line: not printed
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "t=  7.625s  0 ops/s; errors: connection-refused=394; events: ... +odown, +new-epoch, "
        "+try-failover, +vote-for-leader, +elected-leader, +switch-master"
    ]


def test_console_kind_follows_quiet_terminal_and_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_console(quiet=True), QuietConsole)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert isinstance(make_console(quiet=False), LiveConsole)
    monkeypatch.setenv("NO_COLOR", "1")
    assert isinstance(make_console(quiet=False), PlainConsole)
