"""Pure pixel work: placing pictures in regions and drawing canvases.

``plan`` is the fast yuv420p compositor the recorder uses (cached per-layout plans);
``rgb`` is the simple RGB reference used for still previews and as a test oracle.
"""

from .contents import BLACK, CANVAS, CanvasBackground, Content, Picture, Solid
from .fit import CROP, FIT, Placement, place
from .plan import Plan, build_plan, prepare_background
from .rgb import cover_image, draw_rgb, paste, solid_canvas
from .yuv import i420_planes, i420_to_rgb, rgb_to_i420, solid_i420

__all__ = [
    "BLACK", "CANVAS", "CROP", "FIT", "CanvasBackground", "Content", "Picture", "Placement", "Plan",
    "Solid", "build_plan", "cover_image", "draw_rgb", "i420_planes", "i420_to_rgb", "paste",
    "place", "prepare_background", "rgb_to_i420", "solid_canvas", "solid_i420",
]
