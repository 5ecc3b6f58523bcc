"""Pure shapes of what the cloud writes: file names, playlist text, ``serverResponse``.

The recorder renders them; ``compare`` parses what a real recording holds.
"""
