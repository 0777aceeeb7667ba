"""When a relay looks for rows again after a round (`outbox.pause_before_next_round`, issue 13): a busy relay waits
out its round interval; a quiet one, or one with a backlog, does not wait. Whether it is busy (`outbox.CommitRate`):
enough commits within the last second, or always. How long it keeps published rows (ADR 0044)."""

from __future__ import annotations

import datetime as dt

import pytest

from btkernel.outbox import CommitRate, OutboxRelay, pause_before_next_round
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


def _notified_at(rate: CommitRate, times: list[float]) -> CommitRate:
    for t in times:
        rate.notified(t)
    return rate


def test_no_rate_counts_a_relay_busy_always() -> None:
    assert CommitRate(0).busy(100.0)


def test_a_counter_below_the_rate_is_not_busy() -> None:
    rate = _notified_at(CommitRate(20), [100.0 + i * 0.05 for i in range(19)])
    assert not rate.busy(100.95)


def test_the_rates_commits_within_a_second_make_it_busy() -> None:
    rate = _notified_at(CommitRate(20), [100.0 + i * 0.04 for i in range(20)])
    assert rate.busy(100.8)


def test_as_many_commits_spread_over_more_than_a_second_are_not_busy() -> None:
    rate = _notified_at(CommitRate(20), [100.0 + i * 0.06 for i in range(20)])
    assert not rate.busy(101.15)


def test_a_busy_counter_that_falls_quiet_for_a_second_is_not_busy_any_more() -> None:
    rate = _notified_at(CommitRate(3), [100.0, 100.1, 100.2])
    assert rate.busy(100.5)
    assert not rate.busy(101.1)
    rate.notified(101.2)
    assert not rate.busy(101.2)


def test_the_rate_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BT_RELAY_BUSY_COMMITS_PER_S", "-1")
    with pytest.raises(ValueError, match="relay_busy_commits_per_s"):
        ServiceSettings()


def test_the_relay_keeps_published_rows_as_long_as_the_settings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """ADR 0044: 30 days unless set; 0 keeps them for good; a negative retention stops the start."""
    assert OutboxRelay.from_settings(ServiceSettings(), {}).pruning.retention == dt.timedelta(days=30)
    monkeypatch.setenv("BT_OUTBOX_RETENTION_DAYS", "7")
    assert OutboxRelay.from_settings(ServiceSettings(), {}).pruning.retention == dt.timedelta(days=7)
    monkeypatch.setenv("BT_OUTBOX_RETENTION_DAYS", "0")
    relay = OutboxRelay.from_settings(ServiceSettings(), {})
    assert relay.pruning.retention is None
    assert not relay.pruning.due(0.0)
    monkeypatch.setenv("BT_OUTBOX_RETENTION_DAYS", "-1")
    with pytest.raises(ValueError, match="outbox_retention_days"):
        ServiceSettings()
