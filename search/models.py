"""Search models: added by their own issue."""
