"""compare: a recording against what the rules predict for a scenario.

:func:`~layoutkit.comparison.run.compare` (its options in one frozen
:class:`~layoutkit.comparison.run.CompareOptions`) opens the recording
(:mod:`~layoutkit.comparison.read`), checks its files (:mod:`~layoutkit.comparison.files`),
runs the content checks (:mod:`~layoutkit.comparison.content`), checks its streams
(:mod:`~layoutkit.comparison.streams`) and returns a
:class:`~layoutkit.comparison.model.CompareResult` (:mod:`~layoutkit.comparison.report`
draws it).

The content checks are a pipeline of stages; each is a function from frozen dataclasses to
a frozen dataclass, in its own module of this package:

0. **plan** -- ``plan.prepare`` (with ``expect.build_expectation``) -> ``Plan``: the
   ``observe.FrameSampler``, the ``expect.Expectation`` of every period, the users' joins; the
   tolerances travel in ``plan.ContentOptions``.
1. **observe** -- ``frames.observe_frames`` (with ``observe.FrameSampler``) -> ``Observed``: per
   frame its time, descriptor cells and test-stream code readings, and the codes'
   calibration levels (the frames stream through once).
2. **align** -- ``alignment.align_observed`` (with ``rates.publisher_rates`` and
   ``align.align_recording``: codes, else the recording's clock (``clock``), else
   still-weighted pictures), then ``levels.recording_range`` -> ``Alignment``: the offset
   per frame, the method and its confidence (``align.Alignment``), votes, frames lost at
   jumps, each publisher's rate, the recording's range mix-up.
3. **fit events** -- ``events.fit_observed`` (with ``events.fit_events``: each event's
   time fitted in its window) -> ``FittedEvents``: the plan at the events' fitted times
   (rebuilt when one moved), the fits and their differences; then ``leaves.keep_layouts``:
   a leave after which the recording kept the layout from before (the old regions' codes
   read after it) is dated where the user's picture went (``FittedEvents.kept``); every
   later stage judges against ``FittedEvents.plan``.
3b. **people** -- ``people.read_people`` -> ``People``: real people's (``source:
   "unknown"``) video stops and restarts read from their regions (a freeze, a background,
   motion again: ``classify.picture_states`` with ``stillness.still_spans``) and added to
   the scenario as exact events, the plan rebuilt so the 3.5 s rules judge what follows;
   a recording whose people's regions show only backgrounds (checked before fitting: no
   event is fitted on it) gives ``missing_user`` with a video report (NCS event 44), else a
   ``canvas_only`` warning (``ContentResult.warnings``).
4. **classify** -- ``regions.classify_observed`` (with ``classify.classify``) ->
   ``Classified``: a ``classify.RegionObservation`` per region and period, user shifts;
   a live video file's region is compared with the file's own frames near its source time
   (``expect.FileFrames``, each frame drawn once, on first use; the event fit checks
   them alike).
5. **runs** -- ``runs.find_runs`` -> ``Runs``: a ``Track`` per region and the ``Run`` of
   mismatching frames in it, with the ``Part`` items it showed in time order.
5b. **displacement** -- ``content.moved_back`` (with ``content.find_displacement``:
   ``displacement.check_codes`` where test-stream codes are expected -- searched for
   around their regions when missing, a displaced layout is ``wrong_layout`` with the
   offset in pixels, none found ``unreadable_codes`` -- else ``edges.check_edges``, the
   tiles' edges against the canvas) -> ``Analysis`` with its ``content.Displacement``;
   a displaced layout's frames are moved back by the offset and stages 1-5 run again on
   them (``reread.moved_frames``: the codes re-read at the shifted place).
6. **checks** -- ``runcheck.judge_runs`` (users who left, ``leaves.departures``, named
   where still shown; swaps named), ``leaves.kept_wrong_layouts`` (a layout kept after a
   leave: one ``wrong_layout`` replacing its period's runs), ``leaves.still_shown`` (a user
   still in its place from before the leave where no region is),
   ``layoutcheck.find_wrong_layouts``, ``rendermode.check_render_modes`` (a custom-layout
   user drawn cropped where fit is asked, or the reverse: ``wrong_render_mode``;
   floating/vertical regions drawn as the other ``floating_render`` / ``vertical_render``
   value: ``wrong_layout`` naming the key), the displacement found in 5b,
   ``background.check_background``, ``timing.measure_timing``, ``avcheck.measure_av``
   (with ``avsync.check_av``) -> ``findings.Finding`` items (a ``model.Difference`` and the
   ``Anchor`` frame it is seen on), gathered in ``content.Checked``.
7. **evidence** -- ``evidence.collect_evidence`` -> ``model.Evidence``: expected and
   recorded frames of the longest findings (a second decoding pass), each at its anchor or,
   without one, at its difference's time, moved to the nearest frame without a test-stream
   flash (``evidence.flash_frames``), with its region's rectangle for the report to mark.
   Stages 6-8 are imported when they run: the first frame does not wait for them.
8. **infer** (``infer=True``) -- ``inference.infer_keys`` -> profile key -> value.

:func:`~layoutkit.comparison.content.check_content` runs stages 0-8
(``content.analyse`` is 1-5, ``content.run_checks`` is 6) and returns a
:class:`~layoutkit.comparison.content.ContentResult`.
"""
