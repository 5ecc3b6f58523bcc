"""I/O at the edge: images, test pictures, atomic files, and (lazily) PyAV."""
