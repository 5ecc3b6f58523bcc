"""Pure generators of the test signals and the audio mix.

``testcard`` (the labelled still of previews), ``idstream`` (the identifying test stream's
pictures), ``idcode`` (its machine-readable code: draw and read), ``tone`` (its audio),
``audio`` (sample arithmetic and the recorder's composite mix).
"""
