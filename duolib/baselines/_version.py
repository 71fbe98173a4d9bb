"""The cache version of the baselines' stored predictives."""

# Bump when a baseline's predictive changes, to invalidate its cached arrays.
BASELINES_VERSION = 2
