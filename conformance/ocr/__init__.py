"""OCR of the text shown beside the QR code (DISPLAY-001, DISPLAY-002). See match.py for the matching contract."""
from .match import canon, classify_date, classify_doc, judge_display
from .reader import ScreenReading, read_screen

__all__ = ["read_screen", "ScreenReading", "judge_display", "canon", "classify_doc", "classify_date"]
