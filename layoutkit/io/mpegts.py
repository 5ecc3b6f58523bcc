"""MPEG-TS continuity counters carried across segment files, as FFmpeg's HLS muxer does.

Each TS packet carries a 4-bit continuity counter per PID, incremented for every packet
with a payload. FFmpeg's ``hls`` muxer keeps one ``mpegts`` muxer for the whole recording,
so the counters run on from one segment into the next; a player (FFmpeg's HLS demuxer,
hls.js) reads the segments as one stream and marks a packet corrupt where a counter jumps.
The recorder writes one ``mpegts`` container per segment (whole files under their final
names), and :class:`ContinuityCounters` renumbers each finished segment so that its
counters continue those of the segment before: the first segment keeps the muxer's own,
every later one starts where the previous one stopped, PID by PID.

Examples
--------
>>> import numpy as np
>>> def packet(pid, cc):
...     p = bytearray(188); p[0] = 0x47; p[1] = pid >> 8; p[2] = pid & 255
...     p[3] = 0x10 | cc; return bytes(p)
>>> counters = ContinuityCounters()
>>> first = counters.renumber(packet(256, 0) + packet(256, 1))
>>> second = counters.renumber(packet(256, 0) + packet(256, 1))   # a new file restarts at 0
>>> [b & 15 for b in (second[3], second[188 + 3])]
[2, 3]
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import MediaError

__all__ = ["TS_PACKET", "ContinuityCounters"]

#: Size of one MPEG-TS packet.
TS_PACKET = 188
_SYNC = 0x47
_NULL_PID = 0x1FFF
_CHUNK_PACKETS = 2048  # 376 KiB per read: below glibc's mmap threshold, reused


class ContinuityCounters:
    """Per-PID continuity counters that run on from one TS file into the next."""

    def __init__(self) -> None:
        self._last: dict[int, int] = {}

    def renumber(self, data: bytes | bytearray, *, source: str = "TS data") -> bytearray:
        """Return ``data`` (whole TS packets) with counters continuing the previous data.

        Raises
        ------
        MediaError
            When ``data`` is not a whole number of TS packets with sync bytes.
        """
        buf = bytearray(data)
        if len(buf) % TS_PACKET:
            msg = f"{source}: {len(buf)} bytes is not a whole number of TS packets"
            raise MediaError(msg)
        if buf:
            self._renumber(np.frombuffer(buf, dtype=np.uint8).reshape(-1, TS_PACKET), source)
        return buf

    def _renumber(self, packets: npt.NDArray[np.uint8], source: str) -> None:
        """Renumber the counters of ``packets`` (rows of whole TS packets) in place."""
        if (packets[:, 0] != _SYNC).any():
            bad = int(np.flatnonzero(packets[:, 0] != _SYNC)[0])
            msg = f"{source}: no TS sync byte at offset {bad * TS_PACKET}"
            raise MediaError(msg)
        pids = ((packets[:, 1].astype(np.int32) & 0x1F) << 8) | packets[:, 2]
        has_payload = (packets[:, 3] & 0x10) != 0
        for pid in np.unique(pids).tolist():
            if pid == _NULL_PID:
                continue
            rows = np.flatnonzero(pids == pid)
            payload = has_payload[rows].astype(np.int64)
            if pid in self._last:
                base = self._last[pid]
            else:  # the first file keeps the muxer's numbering
                base = (int(packets[rows[0], 3] & 0x0F) - int(payload[0])) & 0x0F
            counters = (base + np.cumsum(payload)) & 0x0F
            packets[rows, 3] = (packets[rows, 3] & 0xF0) | counters.astype(np.uint8)
            self._last[pid] = int(counters[-1])

    def renumber_file(self, path: str | os.PathLike[str]) -> None:
        """Renumber a TS file in place (same size), then flush it to disk.

        The file is read into one small buffer, a chunk at a time, so renumbering a segment
        of any size holds well under a MiB (a recorder's resident memory stays flat).

        Raises
        ------
        MediaError
            When the file is not whole TS packets.
        OSError
            When it cannot be read or written.
        """
        target = Path(path)
        buf = bytearray(TS_PACKET * _CHUNK_PACKETS)
        view = memoryview(buf)
        with open(target, "r+b") as f:
            offset = 0
            while True:
                f.seek(offset)
                n = f.readinto(buf)
                if not n:
                    break
                if n % TS_PACKET:
                    msg = f"{target}: {offset + n} bytes is not a whole number of TS packets"
                    raise MediaError(msg)
                self._renumber(np.frombuffer(buf, dtype=np.uint8, count=n).reshape(
                    -1, TS_PACKET), str(target))
                f.seek(offset)
                f.write(view[:n])
                offset += n
            f.flush()
            os.fsync(f.fileno())
