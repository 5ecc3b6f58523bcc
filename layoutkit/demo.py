"""``layoutkit demo``: run the bundled samples end to end into one folder."""

from __future__ import annotations

import importlib.resources
import os
from fractions import Fraction
from pathlib import Path
from typing import IO

from .enums import LayoutMode
from .errors import OutputExistsError

__all__ = ["copy_samples", "run_demo", "samples_dir"]

_MARKER = ".layoutkit-demo"


def samples_dir() -> Path:
    """Folder of the bundled sample requests and scenarios."""
    return Path(str(importlib.resources.files("layoutkit") / "samples"))


def _sample_files() -> list[Path]:
    """List the bundled samples, relative to :func:`samples_dir` (no hidden or cache files)."""
    root = samples_dir()
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith((".", "__"))
                                             for part in p.relative_to(root).parts))


def copy_samples(folder: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
    """Copy the bundled samples into ``folder/samples/``.

    Paths such as ``samples/scenario-demo.json`` (the ``--help`` examples') then work from
    ``folder``.

    Every file is checked before any is written: an existing one that differs from the
    bundled one is replaced only with ``overwrite`` (one already equal is left as it is).
    Each is written under a temporary name and renamed when whole.

    Returns
    -------
    list of Path
        The files written (none when every one was already there, unchanged).

    Raises
    ------
    OutputExistsError
        For the first sample file that exists and differs (nothing written), unless
        ``overwrite``.
    StorageError
        When ``folder`` cannot be a folder.

    Examples
    --------
    >>> import tempfile
    >>> made = copy_samples(tempfile.mkdtemp())
    >>> sorted(p.name for p in made if p.name.startswith("scenario-demo"))
    ['scenario-demo.json']
    """
    from .io.atomic import atomic_output, check_writable
    from .io.paths import output_folder

    target = output_folder(Path(folder) / "samples")
    root = samples_dir()
    files = [name for name in _sample_files() if not _same_file(target / name, root / name)]
    for name in files:
        check_writable(target / name, overwrite=overwrite)
    for name in files:
        with atomic_output(target / name, overwrite=overwrite) as tmp:
            tmp.write_bytes((root / name).read_bytes())
    return [target / name for name in files]


def _same_file(path: Path, bundled: Path) -> bool:
    """``path`` is a regular file with the bundled file's bytes (copying it changes nothing)."""
    try:
        return (path.is_file() and not path.is_symlink()
                and path.stat().st_size == bundled.stat().st_size
                and path.read_bytes() == bundled.read_bytes())
    except OSError:
        return False


def _prepare(folder: Path) -> list[Path]:
    """Make ``folder`` (or reuse one an earlier demo made); returns what it holds already."""
    from .io.paths import output_folder

    if folder.exists() and not folder.is_dir():
        output_folder(folder)  # raises: is a file, not a folder
    if folder.exists() and any(folder.iterdir()) and not (folder / _MARKER).exists():
        raise OutputExistsError(str(folder))
    output_folder(folder)
    earlier = sorted(p for p in folder.iterdir() if p.name != _MARKER)
    (folder / _MARKER).write_text("made by layoutkit demo; its files may be replaced\n")
    return earlier


def _say_replaced(folder: Path, earlier: list[Path], *, out: IO[str]) -> None:
    """Name what an earlier demo run left in ``folder`` (this run replaces it)."""
    if not earlier:
        return
    names = [p.name + ("/" if p.is_dir() else "") for p in earlier]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    print(f"{folder}/ holds an earlier demo run: replacing its {len(names)} "
          f"entr{'y' if len(names) == 1 else 'ies'} ({shown})", file=out)


#: Users of each sample request's preview (default: its subscribed uids, else 4 users).
_USERS: dict[str, int | list[str]] = {
    "start-floating": 6, "start-vertical": 11, "start-custom": 3, "start-pip": 2,
    "start-screenshare": ["100", "1", "2", "3"], "start-bestfit": 5,
    "update-layout-bestfit": 5}
#: The annotated preview: a screen-share layout given one user more than it has regions.
_ANNOTATED = ("start-screenshare", ["100", "1", "2", "3", "4", "5"])


def run_demo(folder: Path, *, out: IO[str]) -> list[Path]:
    """Run the bundled samples end to end; return the files made.

    Preview every bundled sample request (each layout mode, a contact sheet of 1..17 users
    each, one annotated preview), then preview (a frame and the animated GIF), record and
    compare the sample scenario.  Prints each file as it is made and, at the end, what to
    open first.
    """
    from .annotate import annotated_preview
    from .request.model import RecordingConfig
    from .inputs import background_image_of, load_request_file
    from .io.png import write_png
    from .stills import contact_sheet

    _say_replaced(folder, _prepare(folder), out=out)
    samples = samples_dir()
    made: list[Path] = []
    for request in sorted(samples.glob("*.json")):
        if request.stem.startswith("scenario"):
            continue
        loaded = load_request_file(request)
        settings = loaded.layout
        canvas = loaded.canvas_wh or (360, 640)
        background = background_image_of(settings, base_dir=samples, canvas_wh=canvas)
        config = getattr(loaded.model, "recording_config", None)
        chosen = _USERS.get(request.stem)
        users = ([str(i) for i in range(1, chosen + 1)] if isinstance(chosen, int)
                 else chosen or (config or RecordingConfig()).preview_uids())
        still = annotated_preview(settings, users, canvas_wh=canvas, config=config,
                                  background_image=background)
        write_png(still, folder / f"{request.stem}.png", overwrite=True)
        sheet = contact_sheet(settings, canvas_wh=canvas, background_image=background)
        write_png(sheet, folder / f"{request.stem}-sheet.png", overwrite=True)
        made += [folder / f"{request.stem}.png", folder / f"{request.stem}-sheet.png"]
        mode = LayoutMode(settings.mixed_video_layout).label
        print(f"{request.name}: {folder / (request.stem + '.png')} ({mode}, {len(users)} users), "
              f"{folder / (request.stem + '-sheet.png')} (1..17 users)", file=out)
        if request.stem == _ANNOTATED[0]:
            import warnings

            with warnings.catch_warnings():  # its warnings are the point: in the picture
                warnings.simplefilter("ignore")
                marked = annotated_preview(settings, _ANNOTATED[1], canvas_wh=canvas,
                                           config=config, background_image=background,
                                           annotate=True)
            target = folder / f"{request.stem}-annotated.png"
            write_png(marked, target, overwrite=True)
            made.append(target)
            print(f"{request.name}: {target} (annotated: regions, uids, x,y,w,h, crop/fit; "
                  f"what is not drawn, in the margin)", file=out)
    made += _scenario_demo(folder, samples / "scenario-demo.json", out=out)
    _summary(folder, made, out=out)
    return made


def _summary(folder: Path, made: list[Path], *, out: IO[str]) -> None:
    print(f"\ndemo written to {folder}/ ({len(made)} files and the recording):", file=out)
    sheets = [p for p in made if p.stem.endswith("-sheet")]
    stills = [p for p in made if p.suffix == ".png" and p not in sheets
              and not p.stem.startswith("scenario")]
    for title, paths in (("previews (every layout mode)", stills),
                         ("contact sheets (1..17 users)", sheets),
                         ("the sample scenario", [p for p in made
                                                  if p.stem.startswith(("scenario", "compare"))])):
        print(f"  {title}: " + ", ".join(p.name for p in paths), file=out)
    print("open first:", file=out)
    print(f"  1. {folder / 'scenario.gif'}  (the sample scenario animated: who shows what, "
          "when)", file=out)
    print(f"  2. {folder / 'start-screenshare-annotated.png'}  (what each region is)",
          file=out)
    print(f"  3. {folder / 'compare-report.html'}  (the local recording checked against the "
          "rules)", file=out)


def _scenario_demo(folder: Path, path: Path, *, out: IO[str]) -> list[Path]:
    """Make the sample scenario's frame, animated GIF, local recording and compare report."""
    import shutil

    from .animate import write_gif
    from .annotate import annotate_frame
    from .inputs import load_scenario_file
    from .io.png import write_png
    from .record import record
    from .render import SceneRenderer

    scenario = load_scenario_file(path)
    with SceneRenderer(scenario, flash=False) as renderer:
        write_png(annotate_frame(renderer.rendered_frame(Fraction(21, 2)), notes=False),
                  folder / "scenario-at-10.5s.png", overwrite=True)
    with SceneRenderer(scenario, flash=False) as renderer:
        write_gif(renderer, folder / "scenario.gif", overwrite=True)
    print(f"{path.name}: {folder / 'scenario-at-10.5s.png'} (annotated), "
          f"{folder / 'scenario.gif'}", file=out)
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
    return [folder / "scenario-at-10.5s.png", folder / "scenario.gif", report]
