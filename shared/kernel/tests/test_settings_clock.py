"""Settings refuse what would be dangerous in production (the gateway's token secret: gateway/tests); the clock's shift moves `now` and nothing else."""

import datetime as dt

import pytest
from pydantic import ValidationError

from btkernel import clock
from btkernel.settings import ServiceSettings


def test_a_shifted_clock_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="BT_CLOCK_OFFSET_S"):
        ServiceSettings(env="production", clock_offset_s=86400)
    assert ServiceSettings(env="test", clock_offset_s=86400).clock_offset_s == 86400


def test_the_offset_moves_now() -> None:
    try:
        clock.set_offset(30 * 86400)
        shifted = clock.now()
        assert dt.timedelta(days=29, hours=23) < shifted - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
        assert shifted.tzinfo is not None
    finally:
        clock.set_offset(0)
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=1)
