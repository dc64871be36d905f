"""Kokoro voice styles shipped in the package (see :func:`rehearse.voices.zh_styles.packaged_zh_styles`)."""
