"""The recorder's cut rules, driven with made-up packets (no encoder, no thread, no file)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from layoutkit.cloudfiles.constants import MP4_MAX_BYTES, SEGMENT_SECONDS
from layoutkit.record.segmenter import MP4_SIZE_MARGIN, Segmenter


def _run(times_keys, **options):
    """Segment start times and MP4 part start times for packets ``(time, key)``."""
    cuts = Segmenter(**options)
    segments, parts = [], []
    for when, key in times_keys:
        cut = cuts.next(Fraction(when), key=key)
        if cut.segment:
            segments.append(Fraction(when))
        if cut.mp4:
            parts.append(Fraction(when))
    return segments, parts


def test_segments_cut_at_the_first_key_frame_at_or_after_each_boundary():
    fps = 10
    # key frames every 4 s (0, 4, 8, ... ): cuts at 16 (first key >= 15), 32 (>= 30), 48 (>= 45)
    packets = [(Fraction(i, fps), i % 40 == 0) for i in range(50 * fps)]
    segments, parts = _run(packets, mp4=False)
    assert segments == [0, 16, 32, 48]
    assert parts == []


def test_a_late_key_frame_does_not_move_later_boundaries():
    packets = [(0, True), (15, False), (29, True), (30, True), (44, False), (45, True)]
    segments, _ = _run(packets, mp4=False)
    assert segments == [0, 29, 30, 45]


def test_mp4_rolls_over_after_its_duration_at_a_key_frame():
    packets = [(Fraction(i, 2), i % 2 == 0) for i in range(40)]  # 0 .. 19.5 s, keys each 1 s
    _, parts = _run(packets, mp4=True, mp4_seconds=7)
    assert parts == [0, 7, 14]


def test_mp4_rolls_over_near_the_size_limit():
    cuts = Segmenter(mp4=True)
    assert cuts.next(Fraction(0), key=True).mp4
    near = MP4_MAX_BYTES - MP4_SIZE_MARGIN
    assert not cuts.next(Fraction(1), key=True, mp4_bytes=near - 1).mp4
    assert not cuts.next(Fraction(2), key=False, mp4_bytes=near).mp4  # waits for a key frame
    assert cuts.next(Fraction(3), key=True, mp4_bytes=near).mp4


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2000), st.booleans()), min_size=1, max_size=200))
def test_cuts_are_exactly_the_first_key_frames_at_or_after_each_boundary(raw):
    keys = dict(raw)
    packets = [(Fraction(t, 10), keys[t]) for t in sorted(keys)]
    segments, _ = _run(packets, mp4=False)
    first = packets[0][0]
    assert segments[0] == first
    key_times = [t for t, k in packets if k and t > first]
    boundaries = range(SEGMENT_SECONDS, int(packets[-1][0]) + 1, SEGMENT_SECONDS)
    expected = sorted({next(t for t in key_times if t >= m) for m in boundaries
                       if m > first or not packets[0][1]
                       if any(t >= m for t in key_times)})
    assert segments[1:] == expected
