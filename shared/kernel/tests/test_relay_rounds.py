"""When a relay looks for rows again after a round (`outbox.pause_before_next_round`, issue 13): a busy relay waits
out its round interval; a quiet one, or one with a backlog, does not wait."""

from __future__ import annotations

import pytest

from btkernel.outbox import pause_before_next_round
from btkernel.settings import ServiceSettings


def test_a_round_that_published_waits_until_the_interval_after_it_began() -> None:
    assert pause_before_next_round(3, 500, elapsed_s=0.03, interval_s=0.1) == pytest.approx(0.07)


def test_a_round_longer_than_the_interval_is_followed_at_once() -> None:
    assert pause_before_next_round(499, 500, elapsed_s=0.4, interval_s=0.1) == 0.0


def test_a_full_round_is_followed_at_once_so_a_backlog_drains_at_the_relays_speed() -> None:
    assert pause_before_next_round(500, 500, elapsed_s=0.02, interval_s=0.1) == 0.0


def test_a_round_that_found_nothing_does_not_wait_so_the_next_commit_goes_at_once() -> None:
    assert pause_before_next_round(0, 500, elapsed_s=0.001, interval_s=0.1) == 0.0


def test_no_interval_never_waits() -> None:
    assert pause_before_next_round(1, 500, elapsed_s=0.0, interval_s=0.0) == 0.0


def test_the_interval_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BT_RELAY_ROUND_INTERVAL_S", "-1")
    with pytest.raises(ValueError, match="relay_round_interval_s"):
        ServiceSettings()
