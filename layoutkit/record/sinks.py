"""Where the recorder's packets go: TS segments, MP4 parts and the playlist, always whole.

* a ``.ts`` segment is written under a temporary name and renamed when closed, and only then
  added to the playlist; the playlist itself is replaced atomically after each segment, so a
  run killed at any moment leaves a playlist whose every segment plays;
* an ``.mp4`` is written under a temporary name and renamed when finalized (a killed run
  leaves only a hidden temporary file, never a broken MP4 under a final name); each MP4 part
  starts at time 0 (its start in the recording is its ``sliceStartTime``);
* TS continuity counters run on from one segment into the next, as FFmpeg's own HLS muxer
  writes them, so a player reading the playlist sees one continuous transport stream;
* a file is listed (playlist, ``serverResponse.json``) only once it is whole on disk; a
  write or close error (a full disk) raises :class:`~layoutkit.errors.StorageError`.

:class:`Sinks` asks the pure :class:`~layoutkit.record.segmenter.Segmenter` where to cut and
writes through :class:`~layoutkit.io.encode.ContainerFile`.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..cloudfiles.naming import m3u8_name, mp4_name, rollover_seconds, ts_name
from ..cloudfiles.playlist import Segment, check_tag_time, render_playlist
from ..errors import OutputExistsError, StorageError
from ..io.atomic import atomic_output
from ..io.encode import AUDIO, VIDEO, ContainerFile
from ..io.mpegts import ContinuityCounters
from ..profile import Profile
from .segmenter import Segmenter

__all__ = ["FileNames", "PlaylistWriter", "Sinks"]


class PlaylistWriter:
    """Keep one M3U8 file on disk up to date while segments are recorded.

    The file on disk is always whole (written beside the target, flushed to disk, then
    renamed over it) and lists only segments passed to :meth:`add`, which the recorder calls
    after the segment's ``.ts`` file is closed. Nothing is written before the first
    :meth:`add` (Agora creates the M3U8 after the first segment) unless :meth:`finish` is
    called first, which writes an ended playlist without segments.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.m3u8`` file.
    correct_extinf : bool
        ``#EXTINF`` with a trailing comma (``privateParams`` ``correctEXTINF``).
    tag_time : {'date17', 'epoch_ms'}
        TIME format of the ``EXT-X-AGORA-*`` tags.
    overwrite : bool
        Whether the first write may replace a file already at ``path`` (later writes always
        replace this writer's own file). Default ``True``: the caller checks the output
        folder before recording (``record`` does, honouring ``overwrite``). ``False`` makes
        an existing file raise :class:`~layoutkit.errors.OutputExistsError`, left untouched.

    Raises
    ------
    StorageError
        When the playlist cannot be written.
    """

    def __init__(self, path: str | os.PathLike[str], *, correct_extinf: bool = False,
                 tag_time: str = "date17", overwrite: bool = True) -> None:
        check_tag_time(tag_time)
        self._path = Path(path)
        self._correct_extinf = correct_extinf
        self._tag_time = tag_time
        self._overwrite = overwrite
        self._segments: list[Segment] = []
        self._names: set[str] = set()
        self._written = False
        self._finished = False

    @property
    def path(self) -> Path:
        """The playlist file."""
        return self._path

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The segments listed so far, in order."""
        return tuple(self._segments)

    @property
    def finished(self) -> bool:
        """True after :meth:`finish`."""
        return self._finished

    def render(self) -> str:
        """Return the playlist text as it is (or would be) on disk now."""
        return render_playlist(self._segments, ended=self._finished,
                               correct_extinf=self._correct_extinf, tag_time=self._tag_time)

    def add(self, segment: Segment) -> None:
        """Append a complete segment and rewrite the playlist atomically.

        Raises
        ------
        RuntimeError
            After :meth:`finish`.
        ValueError
            When a segment with the same name is already listed.
        StorageError
            When the playlist cannot be written (the segment is then not listed).
        """
        if self._finished:
            msg = f"{self._path}: playlist already finished; cannot add {segment.name}"
            raise RuntimeError(msg)
        if not isinstance(segment, Segment):
            msg = f"expected a Segment, got {type(segment).__name__}"
            raise TypeError(msg)
        if segment.name in self._names:
            msg = f"{self._path}: segment {segment.name} is already listed"
            raise ValueError(msg)
        self._segments.append(segment)
        try:
            self._write()
        except BaseException:
            self._segments.pop()
            raise
        self._names.add(segment.name)

    def finish(self) -> None:
        """Write the final playlist, with ``#EXT-X-ENDLIST``. Calling it again does nothing."""
        if self._finished:
            return
        self._finished = True
        try:
            self._write()
        except BaseException:
            self._finished = False
            raise

    def _write(self) -> None:
        data = self.render().encode("utf-8")
        overwrite = self._overwrite or self._written
        try:
            with atomic_output(self._path, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except (StorageError, OutputExistsError):
            raise
        except OSError as exc:
            msg = f"{self._path}: cannot write playlist ({exc.strerror or exc})"
            raise StorageError(msg) from exc
        self._written = True


@dataclass(frozen=True)
class FileNames:
    """What a recording's file names are made of.

    Parameters
    ----------
    sid, cname : str
        Name parts.
    start_utc : datetime
        Wall-clock time of recording time 0 (TS names, playlist tags).
    """

    sid: str
    cname: str
    start_utc: datetime


class Sinks:
    """Routes encoded packets to TS segments and MP4 parts, cutting at key frames.

    Parameters
    ----------
    folder : Path
        Where the files go.
    names : FileNames
        The sid, cname and start time the files are named after.
    templates : dict
        Encoder streams by kind (:meth:`~layoutkit.io.encode.Encoders.templates`).
    mp4 : bool
        Whether MP4 parts are written.
    profile : Profile
        ``tag_time`` and ``mp4_rollover``.
    correct_extinf : bool
        ``#EXTINF`` with a trailing comma.
    overwrite : bool
        Replace existing files of the same names.
    """

    def __init__(self, folder: Path, *, names: FileNames, templates: dict[str, Any], mp4: bool,
                 profile: Profile, correct_extinf: bool, overwrite: bool) -> None:
        self.folder = folder
        sid, cname = names.sid, names.cname
        self.sid, self.cname, self.start_utc = sid, cname, names.start_utc
        self.templates = templates
        self.profile = profile
        self.overwrite = overwrite
        self.has_video = VIDEO in templates
        self.playlist = PlaylistWriter(folder / m3u8_name(sid, cname),
                                       correct_extinf=correct_extinf, tag_time=profile.tag_time)
        self.cuts = Segmenter(mp4=mp4, mp4_seconds=rollover_seconds(profile))
        self.segment: ContainerFile | None = None
        self.continuity = ContinuityCounters()
        self.segment_names: list[str] = []
        self.mp4: ContainerFile | None = None
        self.mp4_parts: list[tuple[str, Fraction]] = []
        self._mp4_open: tuple[str, Fraction] = ("", Fraction(0))
        self._audio: deque[tuple[Any, Fraction]] = deque()
        self._video_time = Fraction(-1)

    # ---------------------------------------------------------------- files
    def _utc(self, when: Fraction) -> datetime:
        return self.start_utc + timedelta(seconds=float(when))

    def _open_segment(self, when: Fraction) -> None:
        name = ts_name(self.sid, self.cname, self._utc(when), tag_time=self.profile.tag_time)
        # keep the encoder's timestamps as they are in every segment (the first one holds
        # the AAC priming packet at a negative time; shifting only that segment would make
        # consecutive segments overlap)
        self.segment = ContainerFile(self.folder / name, "mpegts", self.templates, start=when,
                                     overwrite=self.overwrite, continuity=self.continuity,
                                     options={"avoid_negative_ts": "disabled",
                                              # PAT/PMT once at the segment's start, as
                                              # FFmpeg's own HLS muxer does (not every 0.1 s)
                                              "pat_period": "3600", "sdt_period": "3600"})

    def _close_segment(self, end: Fraction) -> None:
        if self.segment is None:
            return
        segment, self.segment = self.segment, None
        segment.close()
        start = segment.start
        first = not self.segment_names
        events = tuple((kind.upper(), self._utc(start)) for kind in (AUDIO, VIDEO)
                       if kind in self.templates) if first else ()
        self.playlist.add(Segment(name=segment.path.name, duration=end - start,
                                  start=self._utc(start), discontinuity=first,
                                  track_events=events))
        self.segment_names.append(segment.path.name)

    def _open_mp4(self, when: Fraction) -> None:
        name = mp4_name(self.sid, self.cname, len(self.mp4_parts))
        self.mp4 = ContainerFile(self.folder / name, "mp4", self.templates, start=when,
                                 overwrite=self.overwrite, options={"movflags": "+faststart"},
                                 offset=when)
        self._mp4_open = (name, when)

    def _close_mp4(self) -> None:
        if self.mp4 is None:
            return
        mp4, self.mp4 = self.mp4, None
        mp4.close()  # raises when the part is not whole: it is then never listed
        self.mp4_parts.append(self._mp4_open)

    def _cut(self, when: Fraction, *, key: bool) -> None:
        """Start new files at ``when`` where the cut rules say so."""
        cut = self.cuts.next(when, key=key, mp4_bytes=self.mp4.size() if self.mp4 else 0)
        if cut.segment:
            self._close_segment(when)
            self._open_segment(when)
        if cut.mp4:
            self._close_mp4()
            self._open_mp4(when)

    def _write(self, packet: Any, kind: str) -> None:
        assert self.segment is not None
        self.segment.mux(packet, kind)
        if self.mp4 is not None:
            self.mp4.mux(packet, kind)

    # ---------------------------------------------------------------- packets
    def video(self, packet: Any) -> None:
        """Route one video packet (cuts files at key frames on the boundaries)."""
        when = Fraction(packet.pts) * packet.time_base
        self._flush_audio(before=when)  # earlier audio stays in the segment it belongs to
        self._cut(when, key=packet.is_keyframe)
        self._write(packet, VIDEO)
        self._video_time = when
        self._flush_audio(before=when, inclusive=True)

    def audio(self, packet: Any) -> None:
        """Route one audio packet (held back until the video has passed its time)."""
        when = Fraction(packet.pts) * packet.time_base
        if not self.has_video:
            self._cut(max(when, Fraction(0)), key=True)
            self._write(packet, AUDIO)
            return
        self._audio.append((packet, when))
        self._flush_audio(before=self._video_time, inclusive=True)

    def _flush_audio(self, *, before: Fraction | None, inclusive: bool = False) -> None:
        """Write held-back audio earlier than ``before`` (everything when None)."""
        while self._audio and self.segment is not None and (
                before is None or self._audio[0][1] < before
                or (inclusive and self._audio[0][1] <= before)):
            packet, _ = self._audio.popleft()
            self._write(packet, AUDIO)

    def finish(self, end: Fraction) -> None:
        """Write what is held back, close every file and finish the playlist."""
        if self.segment is None and self._audio:
            self._cut(self._audio[0][1], key=True)
        self._flush_audio(before=None)
        self._close_segment(end)
        self._close_mp4()
        self.playlist.finish()

    def abort(self, exc: BaseException) -> None:
        """Discard the files being written; the whole segments stay.

        The playlist is ended (``#EXT-X-ENDLIST``: the recording is over) when it can still be
        written.
        """
        for output in (self.segment, self.mp4):
            if output is not None:
                output.close(exc)
        self.segment = self.mp4 = None
        if self.segment_names and not self.playlist.finished:
            # e.g. the disk is full: the last whole playlist stays as it is
            with contextlib.suppress(StorageError, OSError):
                self.playlist.finish()
