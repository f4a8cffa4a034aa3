"""Training data and training for the category classifier (``python -m library.analysis.training``).

Needs the ``[train]`` extra (scikit-learn) and Debian's fluidsynth, the GM
soundfont packages and espeak-ng (``make model`` installs them). Nothing here
is imported by the analyser at run time.
"""
