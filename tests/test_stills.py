"""Still previews: decoded PNG pixels, crop/fit, backgrounds, the contact sheet."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from layoutkit.cli import main
from layoutkit.demo import samples_dir
from layoutkit.io.images import load_image
from layoutkit.signals.testcard import uid_color
from layoutkit.compose.rgb import cover_image
from layoutkit.stills import contact_sheet, preview_canvas
from layoutkit.request.model import LayoutSettings

from .helpers import assert_color


def _run(*argv: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_seed_bestfit_preview_png_cells_and_empty_cell(in_tmp):
    # the seed's start body: 360x640, best fit, #FF0000; it subscribes to the video of 123
    # and 456 only, so 789 is not drawn (warned) and 3 cells stay empty
    code, _out, err = _run("preview", str(samples_dir() / "start-bestfit-seed.json"),
                           "--users", "123,456,789", "-o", "p.png")
    assert code == 0, err
    assert "user 789 not drawn: video not subscribed" in err
    image = np.asarray(Image.open(in_tmp / "p.png").convert("RGB"))
    assert image.shape == (640, 360, 3)
    code, _, err = _run("preview", str(samples_dir() / "start-bestfit-seed.json"),
                        "--users", "123,456", "-o", "two.png")
    assert code == 0 and "not drawn" not in err, err
    assert np.array_equal(image, np.asarray(Image.open(in_tmp / "two.png").convert("RGB")))
    # two users side by side: cells of 180x640, each a cropped card of its uid's colour
    for uid, (x0, y0) in {"123": (0, 0), "456": (180, 0)}.items():
        assert_color(image, (x0 + 90, y0 + 200), uid_color(uid), tol=2, name="bestfit-cell")
    code, _, err = _run("preview", str(samples_dir() / "start-bestfit-seed.json"),
                        "--users", "3", "-o", "three.png")
    assert code == 0 and "users 1, 2, 3 not drawn: video not subscribed" in err
    image = np.asarray(Image.open(in_tmp / "three.png").convert("RGB"))
    assert (image == (255, 0, 0)).all()  # nobody subscribed: the canvas colour only


def test_fit_region_has_black_bars_and_crop_region_none():
    # vertical: the large region is fit (black bars), smalls crop; canvas colour elsewhere
    layout = LayoutSettings(mixed_video_layout=2, max_resolution_uid="1",
                            background_color="#00FF00")
    image = preview_canvas(layout, ["1", "2"], canvas_wh=(360, 640))
    # large region 288x640; a 640x360 card fits as 288x162, centred: bars above and below
    assert_color(image, (144, 10), (0, 0, 0), name="fit-bar-top")
    assert_color(image, (144, 630), (0, 0, 0), name="fit-bar-bottom")
    assert_color(image, (144, 239 + 41), uid_color("1"), tol=2, name="fit-picture")
    # small slot 1 at (288, 0, 72, 160) is crop: no black bar at its top
    assert_color(image, (324, 40), uid_color("2"), tol=2, name="crop-small")
    # below the single small slot: canvas colour
    assert_color(image, (324, 400), (0, 255, 0), name="vertical-empty")


def test_background_image_under_empty_area_and_alpha_region():
    base = samples_dir()
    bg = load_image("background.jpg", base_dir=base)
    assert bg is not None
    from layoutkit.request.model import LayoutRegion

    layout = LayoutSettings(mixed_video_layout=3, background_image="background.jpg",
                            layout_config=(LayoutRegion(0.5, 0.0, 0.5, 0.5, alpha=0.5),))
    image = preview_canvas(layout, ["7"], canvas_wh=(640, 360), background_image=bg)
    expected_bg = cover_image(bg, (640, 360))
    assert np.array_equal(image[200:, :320], expected_bg[200:, :320])
    # the half-transparent region: 0.5 * card + 0.5 * background
    card = np.array(uid_color("7"), dtype=float)
    mix = 0.5 * card + 0.5 * expected_bg[45, 480].astype(float)
    assert_color(image, (480, 45), tuple(int(v + 0.5) for v in mix), tol=2, name="alpha")


def test_contact_sheet_has_every_user_count(in_tmp):
    code, _out, err = _run("preview", str(samples_dir() / "start-vertical.json"), "--sheet",
                           "-o", "sheet.png")
    assert code == 0, err
    sheet = np.asarray(Image.open(in_tmp / "sheet.png").convert("RGB"))
    layout = LayoutSettings(mixed_video_layout=2, max_resolution_uid="1")
    direct = contact_sheet(layout, canvas_wh=(1920, 1080))
    assert sheet.shape == direct.shape
    # 17 thumbnails of 300x169 in 6 columns -> 3 rows
    assert sheet.shape[1] == 16 + 6 * (300 + 16)
    assert sheet.shape[0] == 56 + 3 * (26 + 169 + 16) + 8


def test_preview_refuses_to_overwrite_without_force(in_tmp):
    (in_tmp / "p.png").write_bytes(b"user data")
    req = str(samples_dir() / "start-vertical.json")
    code, _, err = _run("preview", req, "-o", "p.png")
    assert code == 2 and "--force" in err
    assert (in_tmp / "p.png").read_bytes() == b"user data"
    code, _, err = _run("preview", req, "-o", "p.png", "--force")
    assert code == 0, err
    assert Image.open(in_tmp / "p.png").size == (1920, 1080)
    assert not list(in_tmp.glob(".p.png*"))  # no temporary file left behind


def test_unusable_background_image_is_ignored_with_warning(in_tmp):
    import json

    Image.new("RGB", (8, 8), (1, 2, 3)).save(in_tmp / "bg.png")
    body = {"mixedVideoLayout": 1, "backgroundColor": "#0000FF", "backgroundImage": "bg.png"}
    (in_tmp / "u.json").write_text(json.dumps(body))
    code, _, err = _run("preview", "u.json", "--users", "1", "--canvas", "64x64", "-o", "o.png")
    assert code == 0, err
    assert "PNG is not JPG or BMP" in err
    image = np.asarray(Image.open(in_tmp / "o.png").convert("RGB"))
    assert image.shape == (64, 64, 3)


def test_images_like_the_cloud_bmp_used_large_file_ignored(tmp_path):
    import warnings

    from layoutkit.io.images import ImageIgnoredWarning

    Image.new("RGB", (20, 10), (9, 99, 199)).save(tmp_path / "ok.bmp")
    image = load_image("ok.bmp", base_dir=tmp_path)
    assert image is not None and image.shape == (10, 20, 3)
    assert tuple(image[5, 5]) == (9, 99, 199)
    # a valid JPG over 6 MB is ignored, as the cloud ignores an image it cannot use
    rng = np.random.RandomState(3)  # noise does not compress: the file is large
    Image.fromarray(rng.randint(0, 255, (2400, 2400, 3), dtype=np.uint8)).save(
        tmp_path / "big.jpg", quality=100)
    assert (tmp_path / "big.jpg").stat().st_size > 6 * 1024 * 1024
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert load_image("big.jpg", base_dir=tmp_path) is None
        assert load_image("file://" + str(tmp_path / "missing.jpg")) is None
    messages = [str(w.message) for w in caught if issubclass(w.category, ImageIgnoredWarning)]
    assert any("larger than 6 MB" in m for m in messages)
    assert any("cannot be read" in m for m in messages)


@pytest.mark.filterwarnings("ignore::layoutkit.RequestWarning")
def test_contact_sheet_honours_the_subscribe_lists(in_tmp):
    import layoutkit as lk

    # the seed subscribes to the video of 123 and 456 only: a sheet of 1 and 2 users
    seed = samples_dir() / "start-bestfit-seed.json"
    code, _, err = _run("preview", str(seed), "--sheet", "-o", "sheet.png")
    assert code == 0, err
    sheet = np.asarray(Image.open(in_tmp / "sheet.png").convert("RGB"))
    assert sheet.shape[0] == 56 + 1 * (26 + 300 + 16) + 8  # one row of 169x300 cells
    assert np.array_equal(sheet, lk.contact_sheet(seed))
    request = lk.load_request(seed)
    direct = contact_sheet(request.layout, canvas_wh=(360, 640), uids=["123", "456"])
    assert np.array_equal(sheet, direct)
    assert not np.array_equal(sheet, contact_sheet(request.layout, canvas_wh=(360, 640),
                                                   uids=["1", "2"]))
    # unSubscribeVideoUids: "2" never joins, the counts take 1, 3, 4, ...
    body = {"recordingConfig": {"unSubscribeVideoUids": ["2"], "transcodingConfig": {
        "width": 320, "height": 180, "fps": 15, "bitrate": 200, "mixedVideoLayout": 1}}}
    sheet = lk.contact_sheet(body)
    others = [str(i) for i in range(1, 19) if i != 2]
    layout = lk.load_request(body).layout
    assert np.array_equal(sheet, contact_sheet(layout, canvas_wh=(320, 180), uids=others))
    assert not np.array_equal(sheet, contact_sheet(layout, canvas_wh=(320, 180)))
