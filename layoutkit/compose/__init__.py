"""Pure pixel work: placing pictures in regions and drawing canvases."""

from .fit import CROP, FIT, Placement, place
from .rgb import cover_image, draw_rgb, paste, solid_canvas

__all__ = ["CROP", "FIT", "Placement", "place", "cover_image", "draw_rgb", "paste", "solid_canvas"]
