"""Machine images: the two built-in images of each region (`core/images.py`)."""
