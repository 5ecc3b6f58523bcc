"""One recording of the local service, in real time from ``start`` to ``stop``.

The recorder's own parts (:class:`~layoutkit.render.SceneRenderer`,
:class:`~layoutkit.signals.audio.AudioMixer`, :class:`~layoutkit.io.encode.Encoders`,
:class:`~layoutkit.record.sinks.Sinks`) draw and encode output frame ``k`` once the wall
clock has passed ``k / fps`` seconds after the ``start`` call, so the files are the ones
``mix`` writes, written as the time passes.  A change (``updateLayout``, ``update``) makes
a new channel scenario (:mod:`.channel`) whose event time is the next frame still to be
drawn: every frame shows what the scenario says for its time.  The recording ends on
:meth:`LiveRecording.stop` (at the next frame), or by itself when the channel has been
idle for ``maxIdleTime`` (the timeline's end).

Each finished segment, then the playlist listing it, is handed to the uploads as soon as it
is whole; at the end the last segment, the MP4 parts and the final playlist.  The local
copy stays in the service's folder with its ``serverResponse.json``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..cloudfiles.naming import m3u8_name
from ..cloudfiles.server_response import server_response, track_type_of
from ..profile import DEFAULT_PROFILE, Profile
from ..scenario import Scenario
from .channel import recorded

__all__ = ["SCENARIO_FILE", "LiveRecording", "write_scenario"]

#: Beside ``serverResponse.json``: what the recording recorded, for ``compare``.
SCENARIO_FILE = "scenario.json"

Hook = Callable[[int, dict[str, Any]], None]


class _Media:
    """The drawing and encoding parts of one recording (see :func:`_open_media`)."""

    def __init__(self, scenario: Scenario, folder: Path, *, profile: Profile) -> None:
        from ..io.encode import Encoders
        from ..record.sinks import FileNames, Sinks
        from ..render import SceneRenderer, canvas_size
        from ..signals.audio import AUDIO_PROFILES
        from ..timeline import Timeline

        start = scenario.start
        config = start.recording_config
        self.fps = start.transcoding.fps
        self.profile = profile
        self.renderer = SceneRenderer(scenario, profile=profile) \
            if config.records_video() else None
        self.timeline = self.renderer.timeline if self.renderer \
            else Timeline(scenario, profile=profile)
        self.channels, bit_rate = AUDIO_PROFILES[config.audio_profile]
        self.mixer = self._mixer(scenario) if config.records_audio() else None
        self.encoders = Encoders(size_wh=canvas_size(scenario) if self.renderer else None,
                                 fps=self.fps, bitrate_kbps=start.transcoding.bitrate,
                                 audio=(self.channels, bit_rate) if self.mixer else None)
        names = FileNames(scenario.sid or "", scenario.cname, scenario.start_utc)
        self.sinks = Sinks(folder, names=names, templates=self.encoders.templates(),
                           mp4="mp4" in start.recording_file_config.av_file_type,
                           profile=profile,
                           correct_extinf=bool(config.private.get("correctEXTINF")),
                           overwrite=False)
        self.audio_worker = ThreadPoolExecutor(1, thread_name_prefix="layoutkit-aac") \
            if self.mixer else None

    def _mixer(self, scenario: Scenario) -> Any:
        from ..signals.audio import AudioMixer
        from ..sources import open_audio_sources

        return AudioMixer(scenario, self.timeline, sources=open_audio_sources(scenario))

    def use(self, scenario: Scenario) -> None:
        """Draw and mix by ``scenario`` from the next frame on."""
        from ..timeline import Timeline

        if self.renderer is not None:
            self.renderer.use_scenario(scenario)
            self.timeline = self.renderer.timeline
        else:
            self.timeline = Timeline(scenario, profile=self.profile)
        if self.mixer is not None:
            old, self.mixer = self.mixer, self._mixer(scenario)
            old.close()

    def frames(self) -> int:
        """Output frames before the timeline's end (the idle exit)."""
        return math.ceil(self.timeline.end_time * self.fps)

    def encode(self, index: int) -> int:
        """Draw, mix and encode frame ``index``; 1 when a picture was encoded."""
        from ..record.pipeline import encode_frame, media_frame

        picture, audio = media_frame(self.renderer, self.mixer, index=index, fps=self.fps,
                                     channels=self.channels)
        return encode_frame(picture, audio, self.encoders, self.sinks, self.audio_worker)

    def finish(self, frames: int, end: Fraction) -> None:
        from ..record.pipeline import flush_encoders

        flush_encoders(self.encoders, self.sinks, frames)
        self.sinks.finish(end)

    def close(self) -> None:
        if self.audio_worker is not None:
            self.audio_worker.shutdown(wait=True)
        self.encoders.close()
        if self.renderer is not None:
            self.renderer.close()
        if self.mixer is not None:
            self.mixer.close()


class LiveRecording:
    """Record ``scenario`` in real time into ``root`` until stopped or idle.

    Parameters
    ----------
    scenario : Scenario
        The channel (:func:`~.channel.live_scenario`): its ``start_utc`` is the ``start``
        call, its ``sid`` the recording's.
    root : Path
        Files go under ``root/<fileNamePrefix>/``, ``serverResponse.json`` into ``root``.
    profile : Profile
        Behaviour choices, as for ``mix``.
    hand_over : callable, optional
        Called with the keys (``prefix/name``) of files now whole, in upload order.
    notify : callable, optional
        Called with ``(eventType, details)`` of the recorder's events (42, 41).
    """

    def __init__(self, scenario: Scenario, root: Path, *, profile: Profile = DEFAULT_PROFILE,
                 hand_over: Callable[[list[str]], None] | None = None,
                 notify: Hook | None = None) -> None:
        self.scenario = scenario
        self.root = root
        self.profile = profile
        storage = scenario.start.storage_config
        self.prefix = tuple(storage.file_name_prefix) if storage else ()
        self._hand_over = hand_over or (lambda keys: None)
        self._notify = notify or (lambda kind, details: None)
        self._lock = threading.Lock()
        self._changed = False
        self._stop = threading.Event()
        self._stop_at: int | None = None
        self.done = threading.Event()
        self.started = threading.Event()
        self.t0 = time.monotonic()
        self.index = 0
        self.segments_sent = 0
        self.end_reason: str | None = None
        self.error: str | None = None
        self.duration = Fraction(0)
        self.mp4_keys: list[str] = []
        self.server_response: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"layoutkit-record-{scenario.sid}")

    # ------------------------------------------------------------------ control
    def start(self) -> LiveRecording:
        """Start recording now (time 0 of the scenario)."""
        self.t0 = time.monotonic()
        self._thread.start()
        return self

    def change(self, how: Callable[[Scenario, Fraction], Scenario]) -> Fraction:
        """Apply ``how(scenario, t)`` from the next frame still to be drawn; returns ``t``."""
        with self._lock:
            fps = self.scenario.start.transcoding.fps
            # after the frame being drawn now; whole milliseconds, so the scenario file
            # written at the end says exactly what was drawn
            t = max(Fraction(time.monotonic() - self.t0), Fraction(self.index + 1, fps))
            t = Fraction(math.ceil(t * 1000), 1000)
            self.scenario = how(self.scenario, t)
            self._changed = True
            return t

    def stop(self) -> None:
        """End the recording now; return at once (see :attr:`done`).

        The frames already due are still drawn (a recorder running late catches up), no later
        one.
        """
        with self._lock:
            if self._stop_at is None:
                fps = self.scenario.start.transcoding.fps
                self._stop_at = math.ceil((time.monotonic() - self.t0) * fps)
        self._stop.set()

    @property
    def key(self) -> str:
        """The playlist's storage key."""
        return "/".join((*self.prefix, m3u8_name(self.scenario.sid or "", self.scenario.cname)))

    @property
    def playlist_written(self) -> bool:
        """Whether the playlist exists (after the first segment, as the cloud makes it)."""
        return (self.root / self.key).is_file()

    def recorded_scenario(self) -> Scenario:
        """Return what was recorded so far (the scenario ``compare`` checks the files against)."""
        with self._lock:
            return recorded(self.scenario, self.duration)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        from ..io.images import network_reads

        try:
            with network_reads(False):  # an http(s) image is drawn without, never fetched
                self._record()
        except Exception as exc:
            self.error = str(exc)
            self.end_reason = "error"
        finally:
            self.done.set()

    def _next_change(self, media: _Media) -> None:
        with self._lock:
            if not self._changed:
                return
            scenario, self._changed = self.scenario, False
        media.use(scenario)

    def _wait_for(self, index: int, fps: int) -> bool:
        """Wait until frame ``index`` is due; True when the recording ends before it."""
        due = self.t0 + index / fps
        self._stop.wait(max(0.0, due - time.monotonic()))
        with self._lock:
            return self._stop_at is not None and index >= self._stop_at

    def _record(self) -> None:
        folder = self.root.joinpath(*self.prefix)
        folder.mkdir(parents=True, exist_ok=True)
        media = _Media(self.scenario, folder, profile=self.profile)
        frames = 0
        try:
            self.started.set()
            self._notify(42, {"startUtcMs": self._utc_ms(Fraction(0)), "discontinueUtcMs": 0,
                              "mixedAllUser": True, "streamUid": "0",
                              "trackType": self.track_type})
            while True:
                self._next_change(media)
                if self.index >= media.frames():  # idle, or the resource's lifetime is over
                    self.end_reason = "idle" if media.timeline.idle_exit else "expired"
                    with self._lock:  # as mix: the recording ends at the idle exit
                        self.duration = media.timeline.end_time
                    break
                if self._wait_for(self.index, media.fps):
                    self.end_reason = "stop"
                    break
                frames += media.encode(self.index)
                with self._lock:
                    self.index += 1
                    self.duration = Fraction(self.index, media.fps)
                self._segments(media, final=False)
            media.finish(frames, self.duration)
        except BaseException as exc:
            media.sinks.abort(exc)
            raise
        finally:
            media.close()
        self._segments(media, final=True)
        self._finish(media)

    @property
    def track_type(self) -> str:
        """``trackType`` of the files (by ``streamTypes``)."""
        return track_type_of(self.scenario.start.recording_config.stream_types)

    def _utc_ms(self, t: Fraction) -> int:
        when = self.scenario.start_utc + timedelta(seconds=float(t))
        return int(when.timestamp() * 1000)

    def _segments(self, media: _Media, *, final: bool) -> None:
        """Hand over the segments finished since the last call (and the playlist)."""
        names = media.sinks.segment_names[self.segments_sent:]
        keys = ["/".join((*self.prefix, name)) for name in names]
        self.segments_sent += len(names)
        if final:
            self.mp4_keys = ["/".join((*self.prefix, n)) for n, _ in media.sinks.mp4_parts]
            keys += self.mp4_keys
        if keys:
            self._hand_over([*keys, self.key])

    def _finish(self, media: _Media) -> None:
        from ..record.pipeline import LOCAL_UPLOADING_STATUS, write_server_response

        start = self.scenario.start_utc
        self.server_response = server_response(
            m3u8_key=self.key, mp4_keys=self.mp4_keys, slice_start=start,
            mp4_slice_starts=[start + timedelta(seconds=float(t))
                              for _, t in media.sinks.mp4_parts],
            track_type=self.track_type, uploading_status=LOCAL_UPLOADING_STATUS)
        write_server_response(self.root, self.server_response)
        write_scenario(self.root / SCENARIO_FILE, self.recorded_scenario())


def write_scenario(path: Path, scenario: Scenario) -> None:
    """Write ``scenario`` as JSON to ``path`` atomically (its secrets masked)."""
    import json

    from ..errors import StorageError
    from ..io.atomic import atomic_output
    from ..scenario.dump import scenario_to_json

    try:
        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(scenario_to_json(scenario), indent=2) + "\n",
                           encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"{path}: cannot write the scenario ({exc.strerror or exc})") \
            from None
