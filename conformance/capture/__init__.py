"""Capture layer: evidence packages on disk, and live capture adapters that write them."""
