"""layoutkit: preview, reproduce and check Agora Cloud Recording composite layouts locally.

The facade (``import layoutkit as lk``)::

    request = lk.load_request("start.json")          # the cloud's rules, every problem at once
    image = lk.preview(request, users=5)             # (H, W, 3) uint8 RGB
    scenario = lk.load_scenario("scenario.json")     # remembers its folder
    frame = lk.frame_at(scenario, 12.5)              # the recorder's exact frame
    result = lk.mix(scenario, "out")                 # HLS + MP4 + serverResponse.json
    check = lk.compare(scenario, "out")              # a (cloud) recording vs the rules
    lk.upload("out", "s3://bucket/prefix")           # a finished recording to S3 (retry)

Pure rooms (``request``, ``scenario``, ``timeline``, ``layout``, ``compose``, ``signals``,
``cloudfiles``) never touch files; ``io`` is the one I/O edge; ``record``, ``render`` and
``preview`` compose them.
"""

from .api import (
    RequestWarning,
    compare,
    contact_sheet,
    frame_at,
    load_request,
    load_scenario,
    mix,
    preview,
    upload,
)
from .enums import LayoutMode, RenderMode
from .errors import (
    EncodeError,
    LayoutkitError,
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

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PROFILE",
    "EncodeError",
    "LayoutMode",
    "LayoutkitError",
    "MediaError",
    "OutputExistsError",
    "ParameterError",
    "Problem",
    "Profile",
    "Regions",
    "RenderMode",
    "RequestError",
    "RequestWarning",
    "ScenarioError",
    "ShapeError",
    "StorageError",
    "UsageError",
    "__version__",
    "compare",
    "compute_regions",
    "contact_sheet",
    "frame_at",
    "load_request",
    "load_scenario",
    "mix",
    "preview",
    "upload",
]
