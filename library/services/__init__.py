"""Writes to the library. Each module holds one area; import from the module itself."""
