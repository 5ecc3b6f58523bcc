"""The I/O edge, and the only package that imports PyAV (``av``).

``decode`` (users' video and audio files, codes of a test-stream file), ``encode`` (the one
H.264 + AAC writer: encoders, output containers, a simple file writer), ``images`` (JPG/BMP
like the cloud), ``png``, ``atomic`` (whole files only, never a user's file replaced),
``s3`` (S3-compatible storage with boto3).  Nothing here knows scenarios or profiles.
"""
