"""Audio: frame/sample arithmetic, per-user sources, the mix (levels, events, clipping), files."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layoutkit.errors import ShapeError, MediaError, ScenarioError, ParameterError
from layoutkit.cloudfiles.constants import SAMPLE_RATE
from layoutkit.signals.audio import (
    AUDIO_PROFILES,
    AudioMixer,
    frame_sample_range,
    to_channels,
    to_sample,
)
from layoutkit.io.decode import FileAudio
from layoutkit.sources import SilentAudio, ToneAudio, open_audio_sources
from layoutkit.io.encode import audio_frame
from layoutkit.signals.tone import BEEP_SECONDS, TONE_DBFS, tone
from layoutkit.scenario import parse_scenario
from layoutkit.timeline import Timeline

from .test_scenario import make_doc

SR = SAMPLE_RATE
WINDOW = SR // 10  # 0.1 s
BEEP = round(BEEP_SECONDS * SR)


# --- helpers ----------------------------------------------------------------------------------
def mixer(users: list[Any] | None = None, events: list[Any] | None = None, *,
          base_dir: Path | None = None, **doc: Any) -> AudioMixer:
    scenario = parse_scenario(make_doc(users, events, **doc), base_dir=base_dir)
    return AudioMixer(scenario, Timeline(scenario), sources=open_audio_sources(scenario))


def mixed(users: list[Any] | None = None, events: list[Any] | None = None, *,
          seconds: int = 6, **doc: Any) -> np.ndarray:
    """Return the first ``seconds`` of the mix of a scenario."""
    with mixer(users, events, **doc) as m:
        return m.mix(0, seconds * SR)


def tones(*uids: str, start: int = 0, n: int = 6 * SR) -> np.ndarray:
    """Return the float64 sum of the tones of ``uids`` (all joined at 0), unclipped."""
    return sum((tone(uid, start, n).astype(np.float64) for uid in uids), np.zeros(n))


def clipped(*uids: str, start: int = 0, n: int = 6 * SR) -> np.ndarray:
    """Return what the mix of the tones of ``uids`` should be (two beeps together exceed 1.0)."""
    return np.clip(tones(*uids, start=start, n=n), -1, 1)


def db(x: np.ndarray) -> float:
    """RMS level in dB relative to full scale (1.0)."""
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def window_levels(x: np.ndarray) -> np.ndarray:
    """RMS level (dB) of each 0.1 s window, -inf for silence."""
    rms = np.sqrt(np.mean(np.square(x.reshape(-1, WINDOW), dtype=np.float64), axis=1))
    with np.errstate(divide="ignore"):
        return 20 * np.log10(rms)


def beep_free(x: np.ndarray, second: int = 0) -> np.ndarray:
    """Return samples 0.1 s .. 0.9 s of ``second``.

    No beep there; 0.8 s = whole cycles of 40 Hz beats.
    """
    return x[second * SR + WINDOW:second * SR + 9 * WINDOW]


def write_audio(path: Path, signal: np.ndarray, *, rate: int, codec: str = "pcm_s16le") -> None:
    """Write planar float ``signal`` (channels, n) with PyAV."""
    layout = {1: "mono", 2: "stereo"}[signal.shape[0]]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(signal, np.float32),
                                           format="fltp", layout=layout)
        frame.sample_rate, frame.pts = rate, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


def sine_file(path: Path, *, hz: float = 440, rate: int = 44100, seconds: float = 0.5,
              codec: str = "pcm_s16le", amplitude: float = 0.5) -> Path:
    """Write a stereo sine (same in both channels) at ``rate``."""
    n = round(seconds * rate)
    wave = amplitude * np.sin(2 * np.pi * hz * np.arange(n) / rate)
    write_audio(path, np.stack([wave, wave]), rate=rate, codec=codec)
    return path


def peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(spectrum)])


# --- sample arithmetic ------------------------------------------------------------------------
@pytest.mark.parametrize("fps", [1, 7, 10, 15, 24, 30, 60])
def test_frames_cover_every_sample_exactly_once(fps):
    ranges = [frame_sample_range(k, fps) for k in range(10 * fps)]
    assert ranges[0][0] == 0
    assert all(a[1] == b[0] for a, b in pairwise(ranges))
    assert ranges[-1][1] == 10 * SR
    assert {hi - lo for lo, hi in ranges} <= {SR // fps, -(-SR // fps)}


@given(st.integers(1, 240), st.integers(0, 10**7))
def test_frame_ranges_touch_and_never_drift(fps, index):
    lo, hi = frame_sample_range(index, fps)
    assert frame_sample_range(index + 1, fps)[0] == hi
    assert lo * fps <= index * SR < (lo + 1) * fps  # lo = floor(index * sr / fps)


def test_fractional_fps_and_bad_arguments():
    assert frame_sample_range(1001, Fraction(30000, 1001)) == (1001 * 1001 * SR // 30000,
                                                                1002 * 1001 * SR // 30000)
    for args in ((-1, 15), (0, 0)):
        with pytest.raises(ParameterError):
            frame_sample_range(*args)


def test_times_become_the_first_sample_at_or_after_them():
    assert [to_sample(Fraction(t)) for t in (0, 2, Fraction(1, 10))] == [0, 96000, 4800]
    assert to_sample(Fraction(1, 100000)) == 1


# --- sources ----------------------------------------------------------------------------------
def test_tone_and_silence_sources():
    assert np.array_equal(ToneAudio("7").samples(100, 50), tone("7", 100, 50))
    assert not SilentAudio().samples(0, 10).any()
    with pytest.raises(ParameterError):
        ToneAudio("7").samples(-1, 5)


# --- the mix ----------------------------------------------------------------------------------
def test_a_tone_user_is_at_about_minus_18_dbfs():
    out = mixed([{"uid": "1"}], seconds=2)
    assert out.dtype == np.float32 and out.shape == (2 * SR,)
    assert abs(db(out) - TONE_DBFS) < 1  # whole seconds, beeps included
    # between beeps: the tone's peak is -18 dBFS (AES17: a full-scale sine is 0 dBFS)
    assert abs(db(beep_free(out)) + 20 * np.log10(np.sqrt(2)) - TONE_DBFS) < 0.05


def test_two_uncorrelated_users_sum_to_3_db_more():
    one, two = mixed([{"uid": "1"}], seconds=1), mixed(seconds=1)
    rise = db(beep_free(two)) - db(beep_free(one))
    assert abs(rise - 10 * np.log10(2)) < 0.1
    np.testing.assert_allclose(two, clipped("1", "2", n=SR), atol=1e-7)


def test_mute_audio_silences_exactly_that_span_of_that_user():
    out = mixed(events=[{"t": 2.0, "uid": "1", "action": "mute_audio"},
                        {"t": 4.0, "uid": "1", "action": "unmute_audio"}])
    both, only_2 = clipped("1", "2"), clipped("2")
    expected = both.copy()
    expected[96000:192000] = only_2[96000:192000]
    np.testing.assert_allclose(out, expected, atol=1e-7)  # sample 95999 and 192000 included
    levels = window_levels(out)
    muted = np.isin(np.arange(len(levels)) // 10, (2, 3))  # windows in [2 s, 4 s)
    np.testing.assert_allclose(levels[muted], window_levels(only_2)[muted], atol=1e-3)
    np.testing.assert_allclose(levels[~muted], window_levels(both)[~muted], atol=1e-3)


def test_leave_silences_the_user_from_the_leave_on():
    out = mixed(events=[{"t": 3, "uid": "1", "action": "leave"}])
    np.testing.assert_allclose(out[:144000], clipped("1", "2", n=144000), atol=1e-7)
    assert np.array_equal(out[144000:], tones("2", start=144000, n=3 * SR).astype(np.float32))


def test_subscribe_audio_uids_excludes_the_others():
    out = mixed(recording={"subscribeAudioUids": ["2"]}, seconds=2)
    assert np.array_equal(out, tone("2", 0, 2 * SR))


def test_video_only_recording_mixes_nothing():
    with mixer(recording={"streamTypes": 1}) as m:
        assert not m.mix(0, 3 * SR).any()


def test_a_late_joiner_starts_its_own_second_0_at_its_join():
    users = [{"uid": "1", "audio": "silence"}, {"uid": "2", "join": 3}]
    out = mixed(users)
    assert not out[:144000].any()
    assert np.array_equal(out[144000:], tone("2", 0, 3 * SR))
    beep, after = out[144000:144000 + BEEP], out[144000 + BEEP:144000 + 2 * BEEP]
    assert db(beep) > db(after) + 9  # the beep of its second 0 is at sample 144000


def test_fractional_join_and_rejoin_keep_the_first_join_clock():
    users = [{"uid": "1", "audio": "silence"}, {"uid": "2", "join": 0.1}]
    events = [{"t": 1, "uid": "2", "action": "leave"}, {"t": 3, "uid": "2", "action": "join"}]
    out = mixed(users, events, seconds=4)
    assert not out[:4800].any() and not out[48000:144000].any()
    assert np.array_equal(out[4800:48000], tone("2", 0, 48000 - 4800))
    assert np.array_equal(out[144000:], tone("2", 144000 - 4800, SR))


def test_twenty_loud_users_clip_and_never_wrap():
    users = [{"uid": str(i)} for i in range(1, 21)]
    out = mixed(users, seconds=2)
    raw = tones(*(u["uid"] for u in users), n=2 * SR)
    assert np.abs(raw).max() > 5  # the beeps add up far beyond full scale
    assert np.abs(out).max() <= 1.0
    assert np.all(out[raw > 1] == 1.0) and np.all(out[raw < -1] == -1.0)
    np.testing.assert_allclose(out[np.abs(raw) <= 1], raw[np.abs(raw) <= 1], atol=1e-6)


def test_chunked_mixing_equals_one_call_and_the_end_is_silent():
    events = [{"t": 1.00001, "uid": "1", "action": "mute_audio"},
              {"t": 1.7, "uid": "1", "action": "unmute_audio"}]
    with mixer(events=events, duration=3) as m:
        whole = m.mix(0, 4 * SR)
        chunks = [m.mix(lo, hi - lo) for lo, hi in
                  (frame_sample_range(k, 7) for k in range(28))]
        assert m.end_sample == 3 * SR
    assert np.array_equal(np.concatenate(chunks), whole)
    assert not whole[3 * SR:].any() and whole[3 * SR - 1] != 0


# --- output -------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", [0, 1, 2])
def test_profile_sets_channels_and_frames_encode_as_aac(tmp_path, profile):
    with mixer(recording={"audioProfile": profile}) as m:
        assert (m.channels, m.bit_rate) == AUDIO_PROFILES[profile]
        pcm = m.mix(0, SR // 2)
    planar = to_channels(pcm, m.channels)
    assert planar.shape == (m.channels, SR // 2) and np.array_equal(planar[-1], pcm)
    path = tmp_path / "out.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=SR, layout=("mono", "stereo")[m.channels - 1])
        stream.bit_rate = m.bit_rate
        for lo, hi in (frame_sample_range(k, 15) for k in range(7)):
            frame = audio_frame(pcm[lo:hi], start_sample=lo, channels=m.channels)
            assert (frame.pts, frame.samples, frame.sample_rate) == (lo, hi - lo, SR)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with av.open(str(path)) as container:
        assert container.streams.audio[0].channels == m.channels


def test_audio_frame_rejects_a_shape_that_does_not_fit():
    with pytest.raises(ShapeError):
        audio_frame(np.zeros((2, 10)), start_sample=0, channels=1)
    with pytest.raises(ParameterError):
        to_channels(np.zeros(4), 6)


# --- files --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "codec"), [("sine.wav", "pcm_s16le"), ("sine.m4a", "aac")])
def test_file_is_resampled_to_48k_mono_at_the_right_frequency(tmp_path, name, codec):
    path = sine_file(tmp_path / name, codec=codec)
    with FileAudio(path) as audio:
        x = audio.samples(2400, 19200)  # inside the first pass
    assert x.dtype == np.float32 and x.shape == (19200,)
    assert abs(peak_hz(x) - 440) <= 2.5  # one FFT bin
    assert abs(np.abs(x).max() - 0.5) < 0.02  # channels averaged: the level is kept


def test_file_loops_sample_for_sample_and_rewinds(tmp_path):
    path = sine_file(tmp_path / "sine.wav", rate=44100, seconds=0.5)  # 24000 samples at 48 kHz
    with FileAudio(path) as audio:
        bulk = audio.samples(0, 3 * 24000)
        first = audio.samples(0, 24000)  # earlier start: reopens
        pieces = [audio.samples(lo, hi - lo) for lo, hi in
                  (frame_sample_range(k, 7) for k in range(11))]  # 1.57 s, 3+ passes
        skipped = audio.samples(5 * 24000 + 100, 50)  # forward jump across passes
    assert np.array_equal(bulk[24000:48000], bulk[:24000])
    assert np.array_equal(bulk[48000:], bulk[:24000])
    assert np.array_equal(first, bulk[:24000])
    joined = np.concatenate(pieces)
    assert np.array_equal(joined[:72000], bulk)
    assert np.array_equal(skipped, bulk[100:150])


def test_file_jumps_straight_to_the_pass_of_a_far_request(tmp_path):
    path = sine_file(tmp_path / "sine.wav", seconds=0.5)
    with FileAudio(path) as audio:
        assert audio.pass_length is None
        head = audio.samples(0, 30000)  # into the second pass: the length is known
        assert audio.pass_length == 24000
        far = audio.samples(24000 * 10_000 + 5, 1000)  # ~83 min ahead, one pass decoded
        back = audio.samples(24000 * 3 + 5, 1000)  # earlier: reopens at that pass
    assert np.array_equal(far, head[5:1005]) and np.array_equal(back, far)


def test_file_audio_in_the_mix_starts_at_the_join(tmp_path):
    sine_file(tmp_path / "a.wav")
    users = [{"uid": "1", "audio": "silence"}, {"uid": "2", "audio": "a.wav", "join": 1}]
    with mixer(users, base_dir=tmp_path) as m:
        out = m.mix(0, 2 * SR)
    with FileAudio(tmp_path / "a.wav") as audio:
        expected = audio.samples(0, SR)
    assert not out[:SR].any()
    np.testing.assert_allclose(out[SR:], expected, atol=1e-7)


def _video_only(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(2):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 * i, np.uint8),
                                               format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_every_bad_audio_file_is_reported_at_once(tmp_path):
    _video_only(tmp_path / "video.mp4")
    (tmp_path / "junk.m4a").write_bytes(b"not audio at all" * 10)
    users = [{"uid": "1", "audio": "absent.wav"}, {"uid": "2", "audio": "video.mp4"},
             {"uid": "3", "audio": "junk.m4a"}, {"uid": "4"}]
    scenario = parse_scenario(make_doc(users), base_dir=tmp_path)
    with pytest.raises(ScenarioError) as info:
        open_audio_sources(scenario)
    found = {p.path.split(" (")[0]: str(p) for p in info.value.problems}
    assert set(found) == {"users[0].audio", "users[1].audio", "users[2].audio"}
    assert "no such audio file" in found["users[0].audio"]
    assert "has no audio stream" in found["users[1].audio"]
    assert "not a readable audio file" in found["users[2].audio"]
    assert f"users[0].audio (absent.wav -> {tmp_path / 'absent.wav'}): " in found["users[0].audio"]
    with pytest.raises(ScenarioError, match=r"users\[0\]\.audio"):
        mixer(users, base_dir=tmp_path)


def test_a_video_only_file_is_a_clear_media_error(tmp_path):
    with pytest.raises(MediaError, match="has no audio stream"):
        FileAudio(_video_only(tmp_path / "video.mp4"))
