"""Library models: added by their own issue."""
