"""Symbol layer: locate, decode and measure QR symbols in screenshots (zxing-cpp primary; zbar and OpenCV
secondary; own format-information grid read as cross-check)."""
from .analyse import ImageAnalysis, SymbolReport, analyse_image
from .degrade import apply_degradation, min_version_for, robustness

__all__ = ["analyse_image", "ImageAnalysis", "SymbolReport", "robustness", "min_version_for", "apply_degradation"]
