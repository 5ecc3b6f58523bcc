"""What the lint-gate work on the core packages changed besides docstrings and types.

* ``load_image`` was split into helpers that return the reason an image is ignored; every
  :class:`ImageIgnoredWarning` is now raised by ``load_image`` itself, so each one points at
  the caller's line (the "too many pixels once decoded" one used to point into images.py).
* ``S3Settings`` groups the S3 connection options; its ``repr`` leaves the credentials out.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.helpers import jpeg_claiming

from layoutkit.io.images import ImageIgnoredWarning, load_image
from layoutkit.io.s3 import S3Settings




def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (8, 8)).save(path)
    return path


@pytest.mark.parametrize(("make", "says"), [
    (lambda d: jpeg_claiming(d / "wide.jpg", 8000, 6000), "more than 40 million pixels"),
    (lambda d: _png(d / "x.png"), "PNG is not JPG or BMP"),
    (lambda d: d / "missing.jpg", "cannot be read"),
    (lambda d: (d / "junk.bmp").write_bytes(b"not an image") and d / "junk.bmp",
     "not a readable image"),
])
def test_every_ignored_image_warning_points_at_the_caller(tmp_path, make, says):
    path = make(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert load_image(str(path)) is None
    [warning] = [w for w in caught if issubclass(w.category, ImageIgnoredWarning)]
    assert says in str(warning.message)
    assert warning.filename == __file__


def test_s3_settings_repr_leaves_the_credentials_out():
    settings = S3Settings(endpoint_url="http://127.0.0.1:9", access_key="AKIA-REAL",
                          secret_key="s3cr3t-value")
    text = repr(settings)
    assert "127.0.0.1:9" in text
    assert "AKIA-REAL" not in text and "s3cr3t-value" not in text
    assert settings.secret_key == "s3cr3t-value"  # kept, only not shown
