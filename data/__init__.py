"""Values transcribed from published papers and the registry of release data files (shipped as ``pbufjax.tables``)."""
