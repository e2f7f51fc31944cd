"""Symbol layer: locate, decode and measure QR symbols in screenshots.

    analyse_image(source, *, ppi=None, max_pixels=40_000_000, name=None) -> ImageAnalysis   (never raises)
    robustness(analysis, symbol, degradations, min_passed=None) -> [{name, decoded, same_text, not_run}] (SYMBOL-008;
        with min_passed the sweep stops once the outcome is decided; the rest are listed with not_run=True)
    min_version_for(data, ecc) -> int   smallest byte-mode version; 41 when nothing up to v40 holds it

zxing-cpp is primary and finds every symbol; zbar and OpenCV QRCodeDetectorAruco read only each symbol's region
(downscaled to ~6 px modules when larger; the whole image only when zxing-cpp found nothing), with no invert
retry. ECC/version/mask are cross-checked by our own reading of both format-information copies (grid.py) and,
from version 7, both version-information blocks; disagreements are listed on the SymbolReport, never hidden.
Measurements (module px, quiet zone in fractional modules, polarity, contrast) come from the same sampled grid.
"""
from .analyse import ImageAnalysis, SymbolReport, analyse_image, symbol_boxes
from .degrade import apply_degradation, min_version_for, robustness

__all__ = ["analyse_image", "ImageAnalysis", "SymbolReport", "robustness", "min_version_for", "apply_degradation",
           "symbol_boxes"]
