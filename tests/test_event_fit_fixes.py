"""Event fitting's expectation cache across candidates (no encoding, no files).

``classify_cost`` draws each scene once for all candidate event times (its ``drawn`` cache)
and registers every candidate's keys in a scratch copy of the sampler.  A candidate that moves
an event across another (a leave before an ``update_layout``) needs regions the recording
was never observed in: it must be refused (None), also when its scene comes from the cache,
not crash (an IndexError ended ``lk.compare`` on a recording cut to start 1.4 s late).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from layoutkit.comparison.events import FrameData, classify_cost, fit_events, shift_event
from layoutkit.comparison.frames import observe_frames
from layoutkit.comparison.observe import FrameSampler
from layoutkit.comparison.plan import prepare
from layoutkit.io.frames import DecodedFrame
from layoutkit.profile import DEFAULT_PROFILE
from layoutkit.scenario import parse_scenario

W, H, FPS = 160, 96, 15


def test_split_sees_a_key_registered_after_the_last_describe():
    sampler = FrameSampler((W, H))
    first = sampler.desc_key((0, 0, 80, 48))
    assert sampler.n_cells() == 64 + 16  # offsets fixed for the canvas and ``first``
    second = sampler.desc_key((80, 48, 80, 48))
    # cells described by a copy that had both keys (as the cost's scene cache holds them)
    other = FrameSampler((W, H))
    other.desc_key((0, 0, 80, 48))
    other.desc_key((80, 48, 80, 48))
    frame = np.full((H * 3 // 2, W), 128, np.uint8)
    frame[48:H, 80:] = 200
    cells = other.describe(frame)
    assert sampler.split(cells, first).shape == (16, 3)
    assert np.allclose(sampler.split(cells, second)[:, 0], 200)


def test_a_candidate_needing_new_regions_is_refused_also_from_the_scene_cache():
    doc = {"cname": "c", "duration": 4, "users": [{"uid": u, "source": c} for u, c in
                                                   (("11", "#c04040"), ("22", "#40c040"),
                                                    ("33", "#4040c0"))],
           "events": [{"t": 2, "action": "update_layout", "body": {"mixedVideoLayout": 0}},
                      {"t": 3, "uid": "33", "action": "leave"}],
           "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {
               "transcodingConfig": {"width": W, "height": H, "fps": FPS, "bitrate": 400,
                                     "mixedVideoLayout": 1, "backgroundColor": "#000000"}}}}}
    plan = prepare(parse_scenario(doc), profile=DEFAULT_PROFILE, infer=False)
    try:
        canvases = [plan.renderer.rendered_frame(Fraction(i, FPS)).canvas.copy()
                    for i in range(4 * FPS)]
        frames = [DecodedFrame.from_i420(i / FPS, c, i) for i, c in enumerate(canvases)]
        observed = observe_frames(frames, plan.sampler)
        data = FrameData(observed, np.zeros(len(observed)), dict(plan.joins), {})
        cost = classify_cost(data, plan.sampler, plan.renderer, tol=2)
        span = (Fraction(1), Fraction(4))
        keys = dict(plan.sampler.desc_keys)
        assert cost(plan.scenario, span) == 0  # the scenario as drawn explains every frame
        # uid 33 leaving before the switch to floating: best fit of two, never observed
        for t in (Fraction(3, 2), Fraction(8, 5)):  # the second one's scene is cached
            assert cost(shift_event(plan.scenario, 1, t), span) is None
        assert plan.sampler.desc_keys == keys  # the candidates' keys stayed in their copies
    finally:
        plan.renderer.close()


def test_a_stop_seen_frozen_first_at_1_53_s_is_fitted_at_its_own_1_50_s():
    """A stop seen frozen first at 1.53 s is fitted at its own 1.50 s.

    A mute at 1.50 s (between the canvas frames at 1.47 and 1.53 s at 15 fps): the frame
    at 1.53 s is the first frozen one.  The scenario's own 1.50 s explains that exactly; the
    half-frame was once rounded up to 1.57 s, after the first frozen frame, so the 3.5 s of
    last frame were expected to end a frame after the recording's (an unexpected label).
    """
    s = parse_scenario({"cname": "c", "duration": 5, "users": [{"uid": "1"}],
                        "start": {"cname": "c", "uid": "9",
                                  "clientRequest": {"recordingConfig": {}}},
                        "events": [{"t": 1.5, "uid": "1", "action": "mute_video"}]})

    def cost(candidate, span):  # not scored: the freeze is seen directly
        raise AssertionError("scored")

    step = Fraction(1, FPS)
    frozen_first = Fraction(float(Fraction(23, 15)))  # a frame time, as observed (a float)
    fitted, (fit,) = fit_events(s, cost, step=step, seen_at={0: frozen_first})
    assert fit.fitted_t == Fraction(3, 2) and fitted is s  # nothing moved
    assert fit.line() == "uid 1 stopped video at 1.50 s; scenario 1.50 s"
    # off the scenario's time, the fit is the first frozen frame (one frame of the grid)
    _, (fit,) = fit_events(s, cost, step=step, seen_at={0: Fraction(float(Fraction(26, 15)))})
    assert fit.fitted_t == Fraction(3, 2) + 3 * step  # 1.70: after 1.67, at or before 1.73
    assert fit.explained
