"""Which animations an attempt holds for its whole visit, and how long one let run has left
(animations.py); the holds themselves are tested in a real browser in test_engine_human_pace.py."""

from __future__ import annotations

import pytest

from contacts.engine.animations import ENDLESS_S, end_ms, runs_longer_than_an_attempt, seconds_left


def animation(iterations, duration_ms, delay_ms=0, end_delay_ms=0, current_ms=0, rate=1) -> dict:
    """The protocol's Animation object, as much of it as counts."""
    return {"currentTime": current_ms, "playbackRate": rate,
            "source": {"iterations": iterations, "duration": duration_ms, "delay": delay_ms, "endDelay": end_delay_ms}}


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


@pytest.mark.parametrize("described, shown, left", [
    ("a slide's transition just started", animation(1, 800), 0.8),
    ("a fade after its delay, reported as it starts", animation(1, 400, delay_ms=200), 0.6),
    ("a spinner of nine turns, three turned", animation(9, 1_000, current_ms=3_000), 6.0),
    ("a flourish played at double speed", animation(1, 1_000, rate=2), 0.5),
    ("an animation reported after its end", animation(1, 300, current_ms=900), 0.0),
    ("for ever", animation(None, 900), ENDLESS_S),
    ("timing described in a way not known here", animation(1, "auto"), ENDLESS_S),
])
def test_how_long_an_animation_let_run_has_left(described, shown, left):
    # Those still running when the wait begins are held with everything else.
    assert seconds_left(shown) == pytest.approx(left), described


@pytest.mark.parametrize("described, shown, end", [
    ("a slide's transition", animation(1, 800), 800),
    ("a fade after its delay, with a pause after", animation(1, 400, delay_ms=200, end_delay_ms=100), 700),
    ("a spinner of nine turns, wherever it is now", animation(9, 1_000, current_ms=3_000), 9_000),
    ("for ever: no end to move it to", animation(None, 900), None),
    ("timing described in a way not known here", animation(1, "auto"), None),
])
def test_where_an_animation_held_for_the_wait_is_moved_on_to(described, shown, end):
    # After the wait each is moved on to its end, as if it had run through the wait.
    assert end_ms(shown) == end, described
