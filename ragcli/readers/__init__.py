"""Readers: files and folders on disk → `Document`s, one module per format family behind one seam."""
