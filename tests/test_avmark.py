"""The test stream's numbered beep and compare's A/V offset beyond +-0.5 s (issue 19 item 5).

Unit tests read the marker from synthetic sound (pure numpy: one user, noise, 17 users'
tones mixed and clipped, an AAC round trip); end-to-end tests shift the sound of a recording
composed by FFmpeg's own filters (and one made by our recorder) with FFmpeg and check that
``compare`` reports the offset with its sign and size, a missing beep, and still reads an
older test stream's plain 1 kHz beeps (modulo 1 s).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from hypothesis import given, settings
from hypothesis import strategies as st

from layoutkit.comparison.avsync import (PLAIN, BeepReader, Beeps, Flashes, check_av,
                                         heard_spans, marked_offset, read_beeps)
from layoutkit.io.frames import AudioChunk
from layoutkit.io.recorded import iter_audio
from layoutkit.scenario import parse_scenario
from layoutkit.signals.tone import BEEP_HZ, MARK_PERIOD, beep_frequency, tone
from layoutkit.idstream import write_idstream

from .helpers import run_ffmpeg

SR = 48000
FRAME = 1 / 15


def _chunks(signal: np.ndarray, *, t0: float = 0.0, size: int = SR) -> list[AudioChunk]:
    """``signal`` as 1 s chunks, as :func:`iter_audio` yields them."""
    return [AudioChunk(t0 + i / SR, signal[i:i + size].astype(np.float32), SR)
            for i in range(0, signal.size, size)]


def _mix(joins: dict[str, float], seconds: float) -> np.ndarray:
    """Mix ``uid -> join time`` tone users as the recorder does: summed, clipped to [-1, 1]."""
    n = int(seconds * SR)
    total = np.zeros(n)
    for uid, join in joins.items():
        first = round(join * SR)
        total[first:] += tone(uid, 0, n - first)
    return np.clip(total, -1, 1)


def _expected(joins: dict[str, float], seconds: float) -> set[tuple[float, int]]:
    """Return ``(onset, code)`` of every beep after the sound's start.

    Second 0 at a join is kept only when the sound started before it.
    """
    out = set()
    for join in joins.values():
        for k in range(int(seconds) + 1):
            t = join + k
            if 0 < t < seconds - 0.06:
                out.add((round(t, 4), k % MARK_PERIOD))
    return out


def _assert_found(beeps: Beeps, expected: set[tuple[float, int]], *, tol: float = 0.003):
    found = list(zip(beeps.t.tolist(), beeps.code.tolist(), strict=True))
    for t, code in expected:
        assert any(abs(t - ft) <= tol and code == fc for ft, fc in found), \
            (t, code, sorted(found))
    for ft, fc in found:  # nothing made up
        assert any(abs(t - ft) <= tol and code == fc for t, code in expected), (ft, fc)


# --- the marker -------------------------------------------------------------------------
def test_each_second_beeps_its_own_number_and_repeats_only_after_16_s():
    freqs = [beep_frequency(k) for k in range(40)]
    assert len(set(freqs[:MARK_PERIOD])) == MARK_PERIOD
    assert freqs[MARK_PERIOD:2 * MARK_PERIOD] == freqs[:MARK_PERIOD]
    assert BEEP_HZ not in freqs  # an older stream's plain beep is told apart
    assert min(freqs) > 940 and 3 * min(freqs) > max(freqs)  # above the tones, below harmonics
    signal = tone("7", 20 * SR, 3 * SR)  # a stream read from its second 20
    for k, second in enumerate((20, 21, 22)):
        spectrum = np.abs(np.fft.rfft(signal[k * SR:k * SR + 2400]))  # its first 50 ms
        assert np.argmax(spectrum) * SR / 2400 == beep_frequency(second)


def test_one_stream_decodes_every_numbered_beep_to_1_ms():
    joins = {"1001": 0.0}
    beeps = read_beeps(_chunks(_mix(joins, 20)), origin=0.0)
    _assert_found(beeps, _expected(joins, 20), tol=0.0015)
    assert beeps.marked and beeps.span == (0.0, 20.0)
    # a chunk clock that does not start at 0 moves the onsets, origin moves them back
    shifted = read_beeps(_chunks(_mix(joins, 5), t0=10.25), origin=10.0)
    np.testing.assert_allclose(shifted.t, [1.25, 2.25, 3.25, 4.25], atol=0.0015)


@settings(max_examples=12, deadline=None)
@given(steps=st.integers(0, 14), origin=st.floats(0, 4), seconds=st.integers(2, 9),
       size=st.sampled_from([SR // 4, SR, 3 * SR]), gap=st.booleans())
def test_a_sound_read_in_steps_gives_the_beeps_read_at_once(steps, origin, seconds, size,
                                                            gap):
    """The sound read a piece at a time (as compare does while pictures decode): same beeps."""
    chunks = _chunks(_mix({"5": 0.3, "6": 1.75}, seconds), size=size, t0=1.0)
    if gap:  # a missing piece of sound: reading starts afresh after it
        chunks = [c if i < len(chunks) // 2 else AudioChunk(c.t + 2.5, c.samples, c.rate)
                  for i, c in enumerate(chunks)]
    at_once = read_beeps(chunks, origin=origin)
    reader = BeepReader(iter(chunks))
    read = [reader.step() for _ in range(steps)]
    assert read == sorted(read, reverse=True)  # pieces, then the end (and nothing after)
    beeps = reader.beeps(origin=origin)
    assert beeps.t.size > 0 and beeps.span == at_once.span
    for got, want in zip((beeps.t, beeps.code, beeps.level),
                         (at_once.t, at_once.code, at_once.level), strict=True):
        assert np.array_equal(got, want)
    assert not reader.step() and reader.beeps(origin=origin).span == at_once.span


@pytest.mark.parametrize("noise_dbfs", [-40, -26])
def test_numbered_beeps_survive_noise(noise_dbfs):
    joins = {"5": 0.3, "6": 1.75}
    rng = np.random.default_rng(19)
    signal = _mix(joins, 12) + rng.normal(0, 10 ** (noise_dbfs / 20), 12 * SR)
    _assert_found(read_beeps(_chunks(signal)), _expected(joins, 12))


def test_seventeen_users_mixed_and_clipped_all_beeps_read():
    # 17 users, every tone frequency; joins whole seconds apart (beeps at once, different
    # numbers), fractions of a second apart (interleaved) and together (the same number)
    uids = [str(1000 + i) for i in range(17)]
    joins = dict(zip(uids, [0, 0, 1, 2, 3, 0.25, 1.25, 0.5, 2.5, 0.75,
                            0.1, 0.4, 1.6, 2.9, 3.3, 0.6, 0.9], strict=True))
    signal = _mix(joins, 10)
    assert np.abs(signal).max() == 1.0  # really clipped
    # clipping moves an onset by up to 3 ms
    _assert_found(read_beeps(_chunks(signal)), _expected(joins, 10), tol=0.005)


def _aac(signal: np.ndarray, tmp: Path, bitrate: str) -> Beeps:
    """Return the beeps of ``signal`` after an AAC round trip at ``bitrate`` (FFmpeg's encoder)."""
    import imageio_ffmpeg

    raw, out = tmp / f"mix{bitrate}.f32", tmp / f"mix{bitrate}.m4a"
    signal.astype("<f4").tofile(raw)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "f32le",
                    "-ar", str(SR), "-ac", "1", "-i", str(raw), "-c:a", "aac", "-b:a", bitrate,
                    str(out)], check=True)
    return read_beeps(iter_audio([out]))


def test_numbered_beeps_survive_aac_at_the_lowest_profile_bitrate(tmp_path):
    joins = {"11": 0.0, "22": 2.0, "33": 0.5}
    _assert_found(_aac(_mix(joins, 8), tmp_path, "48k"), _expected(joins, 8), tol=0.004)


@pytest.mark.parametrize("bitrate", ["48k", "128k"])
def test_seventeen_clipped_users_through_aac_nearly_all_beeps_read(tmp_path, bitrate):
    uids = [str(1000 + i) for i in range(17)]
    joins = dict(zip(uids, [0, 0, 1, 2, 3, 0.25, 1.25, 0.5, 2.5, 0.75,
                            0.1, 0.4, 1.6, 2.9, 3.3, 0.6, 0.9], strict=True))
    expected = _expected(joins, 10)
    beeps = _aac(_mix(joins, 10), tmp_path, bitrate)
    found = list(zip(beeps.t.tolist(), beeps.code.tolist(), strict=True))
    # measured: at 48 kbit/s 137 of 144 within 5 ms, the rest within 10 ms; at 128 all
    near = [(t, c) for t, c in expected if any(abs(t - ft) <= 0.012 and c == fc
                                               for ft, fc in found)]
    assert len(near) >= 0.97 * len(expected)
    for ft, fc in found:  # no beep with a wrong number
        assert any(abs(t - ft) <= 0.012 and c == fc for t, c in expected), (ft, fc)


def test_a_steady_tone_or_silence_has_no_beep():
    n = 6 * SR
    ramp = np.arange(n)
    for freq in (940, 1000, 1100, 1530):  # even right on a beep frequency
        steady = 0.5 * np.sin(2 * np.pi * freq * ramp / SR)
        assert read_beeps(_chunks(steady)).t.size == 0, freq
    assert read_beeps(_chunks(np.zeros(n))).t.size == 0
    assert read_beeps([]).span is None


def test_plain_1khz_beeps_of_an_older_stream_read_as_plain():
    ramp = np.arange(6 * SR)
    older = 0.126 * np.sin(2 * np.pi * 500 * ramp / SR)
    within = ramp % SR
    older[within < 2400] += 0.5 * np.sin(2 * np.pi * BEEP_HZ * within[within < 2400] / SR)
    beeps = read_beeps(_chunks(older))
    assert not beeps.marked
    assert beeps.code.tolist() == [PLAIN] * 5
    np.testing.assert_allclose(beeps.t, [1, 2, 3, 4, 5], atol=0.0015)


# --- pairing ------------------------------------------------------------------------------
def _flashes(joins: dict[str, float], seconds: float) -> Flashes:
    parts = []
    for uid, join in joins.items():
        ks = np.arange(int(seconds - join) + 1)
        ks = ks[join + ks < seconds]
        parts.append((join + ks, ks, uid))
    return Flashes.of(parts)


@pytest.mark.parametrize("delay", [-5.0, -2.0, -1.0, -0.7, -0.5, 0.0, 0.5, 0.7, 1.0, 2.0, 5.0])
def test_offsets_to_5_s_are_measured_with_sign_and_size(delay):
    joins = {"11": 0.0, "22": 3.0, "33": 1.4}  # 22's clock is 3 whole seconds after 11's
    seconds = 14
    signal = _mix(joins, seconds)
    shift = round(abs(delay) * SR)
    if delay > 0:  # the sound is late
        signal = np.concatenate([np.zeros(shift), signal[:-shift]])
    elif delay < 0:
        signal = np.concatenate([signal[shift:], np.zeros(shift)])
    found = marked_offset(*_pair(_flashes(joins, seconds)), read_beeps(_chunks(signal)))
    assert found is not None
    assert found.offset == pytest.approx(-delay, abs=0.003)
    assert found.votes >= 10 and found.rival is None


def _pair(flashes: Flashes):
    return flashes.t, flashes.second


def test_a_seen_but_unheard_user_does_not_pull_the_offset():
    # 22 is seen all along but not heard (its audio is silence): its flashes would pair with
    # 11's beeps 2 s away; only heard users' flashes are paired
    doc = {"cname": "c", "duration": 12, "start": {"cname": "c", "uid": "9", "clientRequest": {
        "recordingConfig": {}}}, "users": [{"uid": "11", "join": 2}, {"uid": "22",
                                                                      "audio": "silence"}]}
    scenario = parse_scenario(doc)
    spans = heard_spans(scenario, profile=lk.Profile())
    assert spans == {"11": ((2.0, 12.0),)}
    late = 0.4
    signal = _mix({"11": 2.0 + late}, 12)
    flashes = _flashes({"11": 2.0, "22": 0.0}, 12)
    check = check_av(flashes, _chunks(signal), origin=0.0, offset=0.0, spans=spans)
    assert check.stats["av_offset_s"] == pytest.approx(-late, abs=0.003)
    assert [d.kind for d in check.differences] == ["av_offset"]
    assert "400 ms behind" in check.differences[0].message
    assert "numbered beeps" in check.differences[0].message


@pytest.mark.parametrize("late", [0.0, 0.7])
@pytest.mark.parametrize("unseen_join", [0.0, 2.0])
def test_a_heard_unseen_user_whole_seconds_away_is_named_as_a_rival(late, unseen_join):
    # 11 is seen and heard from 1 s; 22 (a file source) is heard only, its clock 1 s from
    # 11's: 11's flashes fit 22's beeps as well as 11's own, 1 s further
    spans = {"11": ((1.0, 10.0),), "22": ((unseen_join, 10.0),)}
    signal = _mix({"11": 1.0 + late, "22": unseen_join + late}, 10)
    check = check_av(_flashes({"11": 1.0}, 10), _chunks(signal), origin=0.0, offset=0.0,
                     spans=spans)
    wrong = -late + 1.0 - unseen_join
    got = sorted([check.stats["av_offset_s"], check.stats["av_rival_s"]])
    assert got == pytest.approx(sorted([-late, wrong]), abs=0.003)
    assert abs(check.stats["av_offset_s"]) < abs(check.stats["av_rival_s"])  # the smaller
    if not late:  # a clean recording stays clean
        assert check.differences == ()
    else:  # 0.7 s late (or, taken wrongly, 0.3 s early): a difference either way, named
        assert "fits nearly as well" in check.differences[0].message


def test_flashes_past_the_codes_4096_frame_wrap_are_left_out():
    # at 15 fps the code's frame number wraps after 273.07 s: frame 4096 reads 0, so the
    # frames read as whole seconds are one frame after the real flash, numbered 273 s less.
    # Here the wrap is put at 8 s (22 flashes after it, 8 before) to keep the sound short.
    late = 0.3
    signal = _mix({"11": late}, 30)
    before = np.arange(0, 8)
    after = np.arange(8, 30)
    flashes = Flashes.of([(before, before, "11"), (after + FRAME, after - 273, "11")])
    check = check_av(flashes, _chunks(signal), origin=0.0, offset=0.0,
                     spans={"11": ((0.0, 30.0),)})
    assert check.stats["av_offset_s"] == pytest.approx(-late, abs=0.003)


def test_no_beep_where_a_tone_is_heard_is_a_difference_naming_the_span():
    doc = {"cname": "c", "duration": 6, "start": {"cname": "c", "uid": "9", "clientRequest": {
        "recordingConfig": {}}}, "users": [{"uid": "11"}, {"uid": "22"}]}
    spans = heard_spans(parse_scenario(doc), profile=lk.Profile())
    flashes = _flashes({"11": 0.0, "22": 0.0}, 6)
    check = check_av(flashes, _chunks(np.zeros(6 * SR)), origin=0.0, offset=0.5, spans=spans)
    (diff,) = check.differences
    assert diff.kind == "no_beep" and check.stats == {"beeps": 0}
    assert "from -0.50 to 5.50 s" in diff.message and "uid 11, 22" in diff.message
    assert diff.observed == {"beeps": 0, "searched_s": [-0.5, 5.5]}
    # nobody sends the tone (or nobody is heard): silence is no difference
    assert check_av(flashes, _chunks(np.zeros(6 * SR)), origin=0.0, offset=0.0,
                    spans={}).differences == ()


def test_an_older_stream_falls_back_to_modulo_1_s_and_says_so():
    ramp = np.arange(8 * SR)
    within = (ramp - int(0.3 * SR)) % SR  # plain beeps 0.3 s late
    older = 0.126 * np.sin(2 * np.pi * 500 * ramp / SR)
    older[within < 2400] += 0.5 * np.sin(2 * np.pi * BEEP_HZ * within[within < 2400] / SR)
    flashes = _flashes({"11": 0.0}, 8)
    check = check_av(flashes, _chunks(older), origin=0.0, offset=0.0,
                     spans={"11": ((0.0, 8.0),)})
    assert check.stats["av_method"] == "plain beeps, modulo 1 s"
    assert check.stats["av_offset_s"] == pytest.approx(-0.3, abs=0.003)
    assert "modulo 1 s" in check.differences[0].message


# --- end to end: FFmpeg shifts the sound of a recording ---------------------------------------
SID = "0123456789abcdef0123456789abcdef"


def _e2e_doc(seconds: int = 6) -> dict:
    from .test_compare_e2e import _doc, _users

    return _doc(_users(11, 22, source="testsrc", size="320x180"), duration=seconds)


@pytest.fixture(scope="module")
def composed(tmp_path_factory) -> Path:
    """Make a 6 s best-fit recording of two test streams composed by FFmpeg's own filters."""
    pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
    from .test_compare_e2e import ffmpeg_composite

    tmp = tmp_path_factory.mktemp("composed")
    doc = _e2e_doc()
    sources = {}
    for user in doc["users"]:
        path = sources[user["uid"]] = tmp / f"testsrc_{user['uid']}.mp4"
        write_idstream(path, uid=user["uid"], duration=doc["duration"], size_wh=(320, 180))
    return ffmpeg_composite(doc, sources, tmp / "composed.mp4")


def _shift_audio(src: Path, out_dir: Path, delay: float, *, audio: list[str] | None = None,
                 seconds: int = 6) -> Path:
    """Re-encode ``src`` (AAC 48 kHz) with its sound ``delay`` s late (early when negative).

    ``audio``: FFmpeg input arguments of another sound to use instead.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{SID}_demo_0.mp4"
    if delay > 0:
        shift = f"adelay={round(delay * 1000)}:all=1,"
    elif delay < 0:
        shift = f"atrim=start={-delay},asetpts=PTS-STARTPTS,"
    else:
        shift = ""
    sound = audio or ["-i", str(src)]
    run_ffmpeg("-i", str(src), *sound, "-map", "0:v", "-map", "1:a", "-c:v", "copy",
            "-af", f"{shift}apad", "-t", str(seconds), "-c:a", "aac", "-b:a", "48k",
            "-ar", "48000", "-ac", "1", str(out))
    return out


def _av(result: lk.CompareResult) -> list[str]:
    return [d.kind for d in result.differences]


DELAYS = [-2.0, -0.7, 0.5, 1.0] + [pytest.param(d, marks=pytest.mark.slow)
                                   for d in (-1.0, -0.5, 0.7, 2.0)]


@pytest.mark.parametrize("delay", DELAYS)
def test_compare_measures_a_shifted_sound_with_sign_and_size(composed, tmp_path, delay):
    shifted = _shift_audio(composed, tmp_path / "rec", delay)
    result = lk.compare(_e2e_doc(), shifted)
    content = result.streams["content"]
    assert content["av_method"] == "numbered beeps"
    assert content["av_offset_s"] == pytest.approx(-delay, abs=FRAME)  # late = sound behind
    assert result.verdict == "differ" and _av(result) == ["av_offset"], result.differences
    (diff,) = result.differences
    assert diff.observed == content["av_offset_s"]
    assert f" ms {'behind' if delay > 0 else 'ahead of'} the picture" in diff.message
    assert "numbered beeps" in diff.message


def test_compare_of_an_unshifted_sound_matches(composed, tmp_path):
    result = lk.compare(_e2e_doc(), _shift_audio(composed, tmp_path / "rec", 0.0))
    assert result.verdict == "match", [d.message for d in result.differences]
    assert abs(result.streams["content"]["av_offset_s"]) < 0.045


def test_compare_of_a_silent_sound_is_no_beep(composed, tmp_path):
    silent = ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"]
    result = lk.compare(_e2e_doc(), _shift_audio(composed, tmp_path / "rec", 0.0, audio=silent))
    assert _av(result) == ["no_beep"], [d.message for d in result.differences]
    (diff,) = result.differences
    assert "no test-stream beep in the sound searched from 0.00 to 6.0" in diff.message
    assert "uid 11, 22" in diff.message


@pytest.mark.parametrize("delay", [0.3, -0.4])
def test_an_older_stream_with_plain_beeps_still_aligns_within_half_a_second(
        composed, tmp_path, delay):
    # FFmpeg's own sine source: 500 Hz with a 1 kHz beep at the start of every second, the
    # older test stream's sound
    older = ["-f", "lavfi", "-i", "sine=frequency=500:beep_factor=2:sample_rate=48000"]
    result = lk.compare(_e2e_doc(), _shift_audio(composed, tmp_path / "rec", delay,
                                                 audio=older))
    content = result.streams["content"]
    assert content["av_method"] == "plain beeps, modulo 1 s"
    assert content["av_offset_s"] == pytest.approx(-delay, abs=FRAME)
    assert _av(result) == ["av_offset"]
    assert "modulo 1 s" in result.differences[0].message


def test_our_recorder_one_second_late_is_no_longer_a_match(tmp_path):
    from .test_compare_e2e import _doc, _users

    doc = _doc(_users(11), duration=5)
    folder = tmp_path / "rec"
    lk.mix(doc, folder)
    (mp4,) = sorted(folder.rglob("*.mp4"))
    late = tmp_path / "late" / f"{SID}_demo_0.mp4"
    late.parent.mkdir()
    run_ffmpeg("-i", str(mp4), "-itsoffset", "1.0", "-i", str(mp4), "-map", "0:v", "-map", "1:a",
            "-c", "copy", "-t", "5", str(late))
    result = lk.compare(doc, late)
    assert result.streams["content"]["av_offset_s"] == pytest.approx(-1.0, abs=FRAME)
    assert _av(result) == ["av_offset"], [d.message for d in result.differences]


def test_seventeen_users_joined_whole_and_part_seconds_apart_measure_through_our_recorder(
        tmp_path):
    from .test_compare_e2e import _doc

    joins = [0, 0, 1, 2, 3, 0.25, 1.25, 0.5, 2.5, 0.75, 0.1, 0.4, 1.6, 2.9, 3.3, 0.6, 0.9]
    doc = _doc([{"uid": str(100 + i), "join": j} for i, j in enumerate(joins)], duration=6,
               size=(640, 360), bitrate=600)
    folder = tmp_path / "rec"
    lk.mix(doc, folder)
    (mp4,) = sorted(folder.rglob("*.mp4"))
    result = lk.compare(doc, folder)
    content = result.streams["content"]
    assert result.verdict == "match", [d.message for d in result.differences]
    assert content["av_method"] == "numbered beeps" and "av_rival_s" not in content
    # flashes of users who joined between frames show on the next frame: within one frame
    assert abs(content["av_offset_s"]) < FRAME
    late = _shift_audio(mp4, tmp_path / "late", 1.0)
    result = lk.compare(doc, late)
    assert result.streams["content"]["av_offset_s"] == pytest.approx(-1.0, abs=FRAME)
    assert "av_offset" in _av(result)
