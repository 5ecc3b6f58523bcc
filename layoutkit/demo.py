"""``layoutkit demo``: run the bundled samples end to end into one folder."""

from __future__ import annotations

import importlib.resources
from fractions import Fraction
from pathlib import Path
from typing import IO

from .errors import OutputExistsError

__all__ = ["run_demo", "samples_dir"]

_MARKER = ".layoutkit-demo"


def samples_dir() -> Path:
    """Folder of the bundled sample requests and scenarios."""
    return Path(str(importlib.resources.files("layoutkit") / "samples"))


def _prepare(folder: Path) -> None:
    from .io.paths import output_folder

    if folder.exists() and not folder.is_dir():
        output_folder(folder)  # raises: is a file, not a folder
    if folder.exists() and any(folder.iterdir()) and not (folder / _MARKER).exists():
        raise OutputExistsError(str(folder))
    output_folder(folder)
    (folder / _MARKER).write_text("made by layoutkit demo; its files may be replaced\n")


def run_demo(folder: Path, *, out: IO[str]) -> None:
    """Preview every bundled sample request, then preview, record and compare the sample
    scenario."""
    from .inputs import load_request_file
    from .io.images import load_image
    from .io.png import write_png
    from .stills import contact_sheet, preview_canvas

    _prepare(folder)
    samples = samples_dir()
    users_for = {"start-floating": 6, "start-vertical": 11, "start-custom": 4,
                 "start-bestfit-seed": 3, "update-layout-bestfit": 5}
    for request in sorted(samples.glob("*.json")):
        if request.stem.startswith("scenario"):
            continue
        loaded = load_request_file(request)
        settings = loaded.layout
        canvas = loaded.canvas_wh or (360, 640)
        background = (load_image(settings.background_image, base_dir=samples,
                                 max_size_wh=canvas)
                      if settings.background_image else None)
        n = users_for.get(request.stem, 4)
        users = [str(i) for i in range(1, n + 1)]
        still = preview_canvas(settings, users, canvas_wh=canvas, background_image=background)
        write_png(still, folder / f"{request.stem}.png", overwrite=True)
        sheet = contact_sheet(settings, canvas_wh=canvas, background_image=background)
        write_png(sheet, folder / f"{request.stem}-sheet.png", overwrite=True)
        print(f"{request.name}: {folder / (request.stem + '.png')} ({n} users), "
              f"{folder / (request.stem + '-sheet.png')} (1..17 users)", file=out)
    _scenario_demo(folder, samples / "scenario-demo.json", out=out)
    print(f"demo written to {folder}/", file=out)


def _scenario_demo(folder: Path, path: Path, *, out: IO[str]) -> None:
    """A frame, an animated GIF, the local recording of the sample scenario and the compare
    report of that recording."""
    import shutil

    from .animate import write_gif
    from .inputs import load_scenario_file
    from .io.png import write_png
    from .record import record
    from .render import SceneRenderer

    scenario = load_scenario_file(path)
    with SceneRenderer(scenario) as renderer:
        write_png(renderer.frame_at(Fraction(21, 2)).rgb(), folder / "scenario-at-10.5s.png",
                  overwrite=True)
    with SceneRenderer(scenario) as renderer:
        write_gif(renderer, folder / "scenario.gif", overwrite=True)
    print(f"{path.name}: {folder / 'scenario-at-10.5s.png'}, {folder / 'scenario.gif'}",
          file=out)
    recording = folder / "recording"
    if recording.exists():
        shutil.rmtree(recording)  # made by an earlier demo run (the folder carries our marker)
    result = record(scenario, recording)
    print(f"{path.name}: recorded {float(result.duration):g} s into {result.folder}/ "
          f"({len(result.keys)} files, serverResponse.json beside them)", file=out)
    from .api import compare

    report = folder / "compare-report.html"
    check = compare(scenario, recording, infer=True, report=report, overwrite=True)
    print(f"{path.name}: compare of that recording: {check.verdict} "
          f"({len(check.differences)} differences), report {report}", file=out)
