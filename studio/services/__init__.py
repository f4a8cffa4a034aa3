"""Writes for the studio, one module per thing: project, renders, kits, slices."""
