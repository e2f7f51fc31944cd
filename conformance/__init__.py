"""Conformance suite for Vietnam's unified personal Covid-19 QR code (Decision 1405/QĐ-BTTTT v1.1).

Layers point one way: capture -> symbol -> payload -> checks -> results -> reports.
"""
__version__ = "0.1.0"
SPEC_VERSION = "1.1"
