"""layoutkit: preview, reproduce and check Agora Cloud Recording composite layouts locally.

The pure core (``request``, ``layout``, ``compose``, ``profile``) never touches files;
``media`` and ``cli`` are the I/O edge.
"""

from .errors import (
    EncodeError,
    LayoutkitError,
    MediaError,
    Problem,
    RequestError,
    ScenarioError,
    StorageError,
    UsageError,
)
from .layout import Regions, compute_regions
from .profile import DEFAULT_PROFILE, Profile

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PROFILE",
    "EncodeError",
    "LayoutkitError",
    "MediaError",
    "Problem",
    "Profile",
    "Regions",
    "RequestError",
    "ScenarioError",
    "StorageError",
    "UsageError",
    "__version__",
    "compute_regions",
]
