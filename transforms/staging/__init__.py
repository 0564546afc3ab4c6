"""Staging: one module per source; only renames, casts and converts units."""
