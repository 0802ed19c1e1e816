"""Which animations an attempt holds for its whole visit (animations.py); the holds
themselves are tested in a real browser in test_engine_human_pace.py."""

from __future__ import annotations

import pytest

from contacts.engine.animations import ENDLESS_S, runs_longer_than_an_attempt


def animation(iterations, duration_ms, delay_ms=0, end_delay_ms=0) -> dict:
    """The protocol's Animation object, as much of it as counts."""
    return {"source": {"iterations": iterations, "duration": duration_ms, "delay": delay_ms,
                       "endDelay": end_delay_ms}}


@pytest.mark.parametrize("described, shown, endless", [
    ("a spinner turning for ever (the protocol says null: JSON has no Infinity)", animation(None, 900), True),
    ("a ticker scrolling eighteen seconds once", animation(1, 18_000), True),
    ("a pulse repeated twenty times over a second and a half", animation(20, 1_600), True),
    ("a panel sliding open", animation(1, 300), False),
    ("a step of a form fading in after a delay", animation(1, 400, delay_ms=200), False),
    ("a flourish repeated nine times over a second", animation(9, 1_000), False),
    ("a long wait before a short flourish", animation(1, 500, delay_ms=ENDLESS_S * 1000), True),
    ("timing described in a way not known here", animation(1, "auto"), False),
])
def test_only_what_runs_longer_than_an_attempt_is_held_for_the_visit(described, shown, endless):
    assert runs_longer_than_an_attempt(shown) is endless, described
