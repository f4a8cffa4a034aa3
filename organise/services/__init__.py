"""Writes for organising a library. Each module holds one area; import from the module itself."""
