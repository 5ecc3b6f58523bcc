"""layoutkit: preview, reproduce and check Agora Cloud Recording composite layouts locally.

The facade (``import layoutkit as lk``)::

    request = lk.load_request("start.json")          # the cloud's rules, every problem at once
    image = lk.preview(request, users=5)             # (H, W, 3) uint8 RGB
    scenario = lk.load_scenario("scenario.json")     # remembers its folder
    frame = lk.frame_at(scenario, 12.5)              # the recorder's exact frame
    result = lk.mix(scenario, "out")                 # HLS + MP4 + serverResponse.json
    check = lk.compare(scenario, "out")              # a (cloud) recording vs the rules:
    check.verdict, check.differences                 # lk.CompareResult, lk.Difference items
    lk.upload("out", "s3://bucket/prefix")           # a finished recording to S3 (retry)
    lk.batch("nightly.csv", "checked")               # many recordings at once, on Dask
    server = lk.serve(scenario, s3_endpoint=URL)     # the cloud's REST API, locally

Pure rooms (``request``, ``scenario``, ``timeline``, ``layout``, ``compose``, ``signals``,
``cloudfiles``) never touch files; ``io`` is the one I/O edge; ``record``, ``render`` and
``preview`` compose them.
"""

from typing import TYPE_CHECKING, Any

from .api import (
    RequestWarning,
    compare,
    contact_sheet,
    frame_at,
    load_request,
    load_scenario,
    mix,
    preview,
    scenario_from_events,
    serve,
    upload,
)
from .enums import LayoutMode, RenderMode
from .errors import (
    EncodeError,
    LayoutkitError,
    ManifestError,
    MediaError,
    OutputExistsError,
    ParameterError,
    Problem,
    RequestError,
    ScenarioError,
    ShapeError,
    StorageError,
    UsageError,
)
from .layout import Regions, compute_regions
from .profile import DEFAULT_PROFILE, Profile

if TYPE_CHECKING:
    from .annotate import PreviewWarning
    from .batches import BatchResult, batch
    from .comparison.model import CompareResult, Difference
    from .io.decode import DamagedMediaWarning
    from .io.images import ImageIgnoredWarning
    from .record.pipeline import RecordingResult

    __version__: str

#: Names imported on first use: their modules pull in the playlist parser, the encoders,
#: Pillow or PyAV, which ``import layoutkit`` does not need.
_LAZY = {"CompareResult": "comparison.model", "Difference": "comparison.model",
         "RecordingResult": "record.pipeline", "PreviewWarning": "annotate",
         "ImageIgnoredWarning": "io.images", "DamagedMediaWarning": "io.decode",
         "BatchResult": "batches", "batch": "batches"}
#: The distribution whose metadata holds the version (pyproject.toml's ``version``).
_DISTRIBUTION = "layoutkit"


def _version() -> str:
    """Return the installed distribution's version: pyproject.toml's ``version``, its one source.

    ``"0+unknown"`` when the package runs from a source tree that was never installed.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """Import the names of ``_LAZY`` and compute ``__version__`` when first asked for."""
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    else:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_PROFILE",
    "BatchResult",
    "CompareResult",
    "DamagedMediaWarning",
    "Difference",
    "EncodeError",
    "ImageIgnoredWarning",
    "LayoutMode",
    "LayoutkitError",
    "ManifestError",
    "MediaError",
    "OutputExistsError",
    "ParameterError",
    "PreviewWarning",
    "Problem",
    "Profile",
    "RecordingResult",
    "Regions",
    "RenderMode",
    "RequestError",
    "RequestWarning",
    "ScenarioError",
    "ShapeError",
    "StorageError",
    "UsageError",
    "__version__",
    "batch",
    "compare",
    "compute_regions",
    "contact_sheet",
    "frame_at",
    "load_request",
    "load_scenario",
    "mix",
    "preview",
    "scenario_from_events",
    "serve",
    "upload",
]
