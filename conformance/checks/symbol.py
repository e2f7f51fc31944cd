"""SYMBOL-*: the QR symbol as a scanner meets it. All derived (ISO/IEC 18004 = TCVN 7322:2009, ISO/IEC 15415
practice, scanning practice), thresholds from the assessment profile — never clauses of 1405."""
from __future__ import annotations

from typing import Any

from conformance.checks._common import no_symbol
from conformance.checks.context import EvidenceView
from conformance.checks.registry import check
from conformance.model import Observation, met, not_applicable, not_met, unsure, unusable

SHOT = ("screenshot", "photo", "recording")  # every capture of the screen (a recording: its representative frames)
PIXELS = ("screenshot", "recording")  # captures whose pixels are the screen's (not a camera's)
ECC_ORDER = "LMQH"


def _measured(s: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(s, n, None) for n in names}


@check("SYMBOL-001", kinds=SHOT, needs=("symbols",))
def symbol_single_and_decodes(ev: EvidenceView) -> list[Observation]:
    """Exactly one QR symbol in the capture, and it decodes."""
    syms = ev.symbols
    if not syms:
        return [not_met("SYMBOL-001", "no QR symbol could be decoded in this capture",
                        "không giải mã được mã QR nào trong ảnh chụp này", measured={"symbols": 0})]
    if len(syms) > 1 and len({s.text for s in syms}) == 1:
        return [met("SYMBOL-001", f"{len(syms)} copies of the same QR symbol; no other code a scanner could read "
                    "instead", f"{len(syms)} bản của cùng một mã QR; không có mã khác để máy quét đọc nhầm",
                    measured={"symbols": len(syms), "distinct": 1})]
    if len(syms) > 1:
        judged = "" if ev.symbol is None else " (the one with six '|'-separated fields is judged as the personal QR)"
        judged_vi = "" if ev.symbol is None else " (mã có sáu trường phân cách bởi '|' được đánh giá là mã QR cá nhân)"
        return [not_met("SYMBOL-001",
                        f"{len(syms)} QR symbols on the screen; a checkpoint scanner may read another code instead of "
                        f"the personal QR{judged}",
                        f"màn hình có {len(syms)} mã QR; máy quét tại chốt có thể đọc nhầm mã khác thay vì mã QR cá "
                        f"nhân{judged_vi}", measured={"symbols": len(syms)})]
    return [met("SYMBOL-001", "exactly one QR symbol, decoded", "đúng một mã QR, giải mã được",
                measured={"symbols": 1})]


@check("SYMBOL-002", kinds=SHOT, needs=("symbols",))
def symbol_decoders_agree(ev: EvidenceView) -> list[Observation]:
    """Every reference decoder reads the same text."""
    s = ev.symbol
    if s is None:
        return [no_symbol(ev, "SYMBOL-002")]
    crashed = dict(getattr(s, "decoder_errors", None) or {})
    if crashed:
        said = "; ".join(f"{k}: {v}" for k, v in sorted(crashed.items()))
        return [unusable("SYMBOL-002", f"reference decoder(s) could not run on this symbol ({said}): nothing is known "
                         "of what they read", f"bộ giải mã tham chiếu không chạy được trên mã này ({said}): không biết "
                         "chúng đọc ra gì", measured={"decoder_errors": crashed})]
    reads = dict(s.decoders)
    missing = sorted(k for k, v in reads.items() if v is None)
    differ = sorted(k for k, v in reads.items() if v is not None and v != s.text)
    measured: dict[str, Any] = {"decoders_read": sorted(k for k, v in reads.items() if v == s.text)}
    if missing or differ:
        parts_en, parts_vi = [], []
        if missing:
            parts_en.append(f"not read by {', '.join(missing)}")
            parts_vi.append(f"{', '.join(missing)} không đọc được")
        if differ:
            parts_en.append(f"different text from {', '.join(differ)}")
            parts_vi.append(f"{', '.join(differ)} đọc ra nội dung khác")
        return [not_met("SYMBOL-002", "; ".join(parts_en), "; ".join(parts_vi),
                        measured={**measured, "not_read": missing, "different": differ})]
    return [met("SYMBOL-002", f"all {len(reads)} reference decoders read the same text",
                f"cả {len(reads)} bộ giải mã tham chiếu đọc ra cùng nội dung", measured=measured)]


@check("SYMBOL-003", kinds=SHOT, needs=("symbols",))
def symbol_error_correction(ev: EvidenceView) -> list[Observation]:
    """Error-correction level at least the profile minimum (cross-checked against the format information)."""
    s = ev.symbol
    if s is None:
        return [no_symbol(ev, "SYMBOL-003")]
    need = ev.thresholds.min_ecc
    grid = s.grid or {}
    measured = {"ecc": s.ecc, "grid_ecc": grid.get("ecc"), "grid_confident": grid.get("confident"),
                "disagreements": list(s.disagreements)}
    if s.ecc is None:
        return [unsure("SYMBOL-003", "error-correction level could not be read", "không đọc được mức sửa lỗi",
                       measured=measured)]
    note_en = f" (disagreement: {'; '.join(s.disagreements)})" if s.disagreements else ""
    note_vi = f" (không khớp: {'; '.join(s.disagreements)})" if s.disagreements else ""
    if ECC_ORDER.index(s.ecc) < ECC_ORDER.index(need):
        return [not_met("SYMBOL-003", f"error-correction level {s.ecc} is below the profile minimum {need}{note_en}",
                        f"mức sửa lỗi {s.ecc} thấp hơn mức tối thiểu {need} của hồ sơ đánh giá{note_vi}",
                        expected=f">= {need}", found=s.ecc, measured=measured)]
    return [met("SYMBOL-003", f"error-correction level {s.ecc} (minimum {need}){note_en}",
                f"mức sửa lỗi {s.ecc} (tối thiểu {need}){note_vi}", found=s.ecc, measured=measured)]


@check("SYMBOL-004", kinds=SHOT, needs=("symbols",))
def symbol_quiet_zone(ev: EvidenceView) -> list[Observation]:
    """Quiet zone at least the profile minimum, in modules (fractional, compared unrounded)."""
    s = ev.symbol
    if s is None:
        return [no_symbol(ev, "SYMBOL-004")]
    need = ev.thresholds.min_quiet_zone_modules
    qz = s.quiet_zone_modules
    if qz is None:
        return [unsure("SYMBOL-004", "quiet zone could not be measured", "không đo được vùng trống",
                       expected=f">= {need:g}")]
    measured = {"quiet_zone_modules": qz}
    if qz < need and getattr(s, "quiet_zone_clipped", False):
        return [unsure("SYMBOL-004",
                       f"only {qz:.1f} modules of quiet zone are visible before the edge of the capture; the screen may "
                       "have more beyond it: check a capture showing the whole code area",
                       f"chỉ thấy {qz:.1f} mô-đun vùng trống trước mép ảnh chụp; màn hình có thể còn rộng hơn: "
                       "hãy xem ảnh chụp đầy đủ vùng mã", expected=f">= {need:g}", found=f"{qz:.1f}",
                       measured={**measured, "clipped": True})]
    if qz < need and ev.kind == "photo":
        return [unsure("SYMBOL-004",
                       f"the photographed quiet zone measures {qz:.1f} modules, below {need:g}; measured on a camera "
                       "photo (faint surroundings and glare make it uncertain): check it on a screenshot",
                       f"vùng trống đo trên ảnh chụp bằng máy ảnh là {qz:.1f} mô-đun, nhỏ hơn {need:g}; số đo trên ảnh "
                       "máy ảnh không chắc chắn (nền mờ, chói sáng): hãy kiểm tra trên ảnh chụp màn hình",
                       expected=f">= {need:g}", found=f"{qz:.1f}", measured={**measured, "photo": True})]
    if qz < need:
        return [not_met("SYMBOL-004", f"quiet zone is {qz:.1f} modules, below the minimum of {need:g}",
                        f"vùng trống rộng {qz:.1f} mô-đun, nhỏ hơn mức tối thiểu {need:g}",
                        expected=f">= {need:g}", found=f"{qz:.1f}", measured=measured)]
    return [met("SYMBOL-004", f"quiet zone {qz:.1f} modules (minimum {need:g})",
                f"vùng trống {qz:.1f} mô-đun (tối thiểu {need:g})", measured=measured)]


def physical_size_mm(ev: EvidenceView, s: Any) -> float | None:
    """The symbol's width on the device: its width in the capture, scaled to the device's screen pixels when the
    capture is smaller or larger than the screen (a resized screenshot, a recording at reduced resolution), over
    the device's pixel density."""
    if ev.ppi is None or s.size_px is None:
        return None
    return float(s.size_px) * device_scale(ev) / ev.ppi * 25.4


def device_scale(ev: EvidenceView) -> float:
    """Device screen pixels per capture pixel (1 when the capture is the screen's own size or the device is not
    described)."""
    return ev.screen_width_px / ev.width if ev.screen_width_px and ev.width else 1.0


@check("SYMBOL-005", kinds=PIXELS, needs=("symbols",))
def symbol_size(ev: EvidenceView) -> list[Observation]:
    """Module size in the capture, and physical size when the device ppi is known."""
    s = ev.symbol
    if s is None:
        return [no_symbol(ev, "SYMBOL-005")]
    t = ev.thresholds
    out: list[Observation] = []
    scale = device_scale(ev)
    mpx = None if s.module_px is None else s.module_px * scale
    if mpx is None:
        out.append(unsure("SYMBOL-005", "module size could not be measured", "không đo được kích thước mô-đun"))
    elif mpx < t.min_module_px:
        out.append(not_met("SYMBOL-005", f"module is {mpx:.2f} px, below the minimum of {t.min_module_px:g} px",
                           f"mô-đun rộng {mpx:.2f} px, nhỏ hơn mức tối thiểu {t.min_module_px:g} px",
                           measured={"module_px": round(mpx, 3), "capture_scale": round(scale, 4)}))
    else:
        out.append(met("SYMBOL-005", f"module {mpx:.2f} px (minimum {t.min_module_px:g} px)",
                       f"mô-đun {mpx:.2f} px (tối thiểu {t.min_module_px:g} px)",
                       measured={"module_px": round(mpx, 3), "capture_scale": round(scale, 4)}))
    mm = physical_size_mm(ev, s)
    if mm is None:
        out.append(not_applicable("SYMBOL-005", "physical size not judged: the device's ppi is not given",
                                  "không đánh giá kích thước thực: chưa khai báo ppi của thiết bị"))
    elif mm < t.min_symbol_mm:
        out.append(not_met("SYMBOL-005", f"symbol is {mm:.1f} mm wide on the device, below {t.min_symbol_mm:g} mm",
                           f"mã rộng {mm:.1f} mm trên thiết bị, nhỏ hơn {t.min_symbol_mm:g} mm",
                           measured={"size_mm": round(mm, 2), "ppi": ev.ppi}))
    else:
        out.append(met("SYMBOL-005", f"symbol {mm:.1f} mm wide on the device (minimum {t.min_symbol_mm:g} mm)",
                       f"mã rộng {mm:.1f} mm trên thiết bị (tối thiểu {t.min_symbol_mm:g} mm)",
                       measured={"size_mm": round(mm, 2), "ppi": ev.ppi}))
    return out


@check("SYMBOL-006", kinds=PIXELS, needs=("symbols",))
def symbol_polarity_contrast(ev: EvidenceView) -> list[Observation]:
    """Dark modules on a light background with symbol contrast at least the profile minimum."""
    s = ev.symbol
    if s is None:
        return [no_symbol(ev, "SYMBOL-006")]
    need = ev.thresholds.min_symbol_contrast
    measured = _measured(s, "polarity", "symbol_contrast", "wcag_contrast", "dark_luma", "light_luma")
    q = getattr(s, "quality", None) or {}
    if q:  # reported for the assessor; the profile's SC threshold decides
        measured["iso15415_style_grade"] = q.get("overall_grade")
        measured["iso15415_style_sc"] = q.get("sc")
    out: list[Observation] = []
    if s.polarity != "dark-on-light":
        out.append(not_met("SYMBOL-006", f"symbol is {s.polarity}; ISO/IEC 18004 expects dark modules on a light "
                           "background", f"mã có dạng {POLARITY_VI.get(s.polarity or '', s.polarity)}; ISO/IEC 18004 "
                           "yêu cầu mô-đun tối trên nền sáng", measured=measured))
    sc = s.symbol_contrast
    if sc is None:
        out.append(unsure("SYMBOL-006", "symbol contrast could not be measured", "không đo được độ tương phản"))
    elif sc < need:
        out.append(not_met("SYMBOL-006", f"symbol contrast {sc:.0%} is below the minimum {need:.0%}",
                           f"độ tương phản {sc:.0%} thấp hơn mức tối thiểu {need:.0%}", measured=measured))
    if out:
        return out
    assert sc is not None
    return [met("SYMBOL-006", f"dark on light, symbol contrast {sc:.0%} (minimum {need:.0%})",
                f"tối trên nền sáng, độ tương phản {sc:.0%} (tối thiểu {need:.0%})", measured=measured)]


POLARITY_VI = {"dark-on-light": "tối trên nền sáng", "light-on-dark": "sáng trên nền tối"}
WIDE_MODES = ("kanji", "hanzi")


@check("SYMBOL-007", kinds=SHOT, needs=("symbols",))
def symbol_encoding_and_version(ev: EvidenceView) -> list[Observation]:
    """ASCII payload without Kanji mode or ECI; version no larger than byte mode needs at its ECC level.

    Mixed-mode segmentation (numeric/alphanumeric/byte segments) is allowed by ISO/IEC 18004 and makes symbols
    smaller: it is never reported, and neither is a byte-only encoding."""
    from conformance.symbol import min_version_for

    s = ev.symbol
    if s is None:
        return [no_symbol(ev, "SYMBOL-007")]
    raw = s.raw_bytes or (s.text or "").encode("utf-8")
    out: list[Observation] = []
    modes = sorted({str(seg.get("mode")) for seg in (s.segments or [])})
    measured: dict[str, Any] = {"mode": s.mode, "segment_modes": modes, "eci": s.eci, "version": s.version,
                                "bytes": len(raw)}
    non_ascii = [i for i, b in enumerate(raw) if b > 0x7E or b < 0x20]
    if non_ascii:
        out.append(not_met("SYMBOL-007", f"payload has {len(non_ascii)} non-ASCII or control byte(s), first at byte "
                           f"offset {non_ascii[0]}", f"nội dung có {len(non_ascii)} byte ngoài ASCII hoặc ký tự điều "
                           f"khiển, byte đầu tiên ở vị trí byte {non_ascii[0]}", position=non_ascii[0],
                           measured=measured))
    wide = [m for m in modes if m in WIDE_MODES] or ([s.mode] if s.mode in WIDE_MODES else [])
    if wide:
        out.append(not_met("SYMBOL-007", f"data is encoded in {wide[0]} mode, which is for Chinese/Japanese "
                           "characters, not for this ASCII payload", f"dữ liệu được mã hoá ở chế độ {wide[0]}, chế độ "
                           "dành cho chữ Trung/Nhật, không phù hợp với nội dung ASCII này", found=wide[0],
                           measured=measured))
    if s.eci:
        out.append(not_met("SYMBOL-007", "the symbol carries an ECI designator; an ASCII payload needs none and some "
                           "scanners mis-handle it", "mã có chỉ định ECI; nội dung ASCII không cần và một số máy quét "
                           "xử lý sai", measured=measured))
    if s.ecc and s.version:
        need = min_version_for(raw, s.ecc)
        measured["min_version"] = need
        if s.version > need:
            out.append(not_met("SYMBOL-007",
                               f"version {s.version} is larger than the {need} this payload needs in byte mode at ECC "
                               f"{s.ecc}: smaller modules for no gain",
                               f"phiên bản {s.version} lớn hơn phiên bản {need} mà nội dung cần ở chế độ byte với mức "
                               f"sửa lỗi {s.ecc}: mô-đun nhỏ hơn mà không được lợi gì",
                               expected=f"<= {need}", found=str(s.version), measured=measured))
    if out:
        return out
    mode_en = s.mode or "mode not determined"
    return [met("SYMBOL-007", f"ASCII payload, {mode_en}, version {s.version} (no larger than byte mode needs)",
                f"nội dung ASCII, chế độ {MODE_VI.get(s.mode or '', s.mode or 'chưa xác định')}, phiên bản {s.version} "
                "(không lớn hơn mức chế độ byte cần)", measured=measured)]


MODE_VI = {"byte": "byte", "mixed": "nhiều chế độ", "numeric": "số", "alphanumeric": "chữ-số"}


@check("SYMBOL-005", "SYMBOL-006", kinds=("photo",), needs=("symbols",))
def photo_size_and_contrast(ev: EvidenceView) -> list[Observation]:
    """Camera photo: contrast is the camera's, not the screen's (not applicable); the symbol's physical size only
    when the screen's width is declared and its outline found, judged with the estimate's uncertainty."""
    out = [not_applicable("SYMBOL-006", "a camera photo shows the camera's exposure, not the screen's contrast and "
                          "colours: judged on screenshots and recordings only", "ảnh chụp bằng máy ảnh thể hiện độ phơi "
                          "sáng của máy ảnh, không phải độ tương phản và màu của màn hình: chỉ đánh giá trên ảnh chụp "
                          "màn hình và video quay màn hình")]
    photo = ev.detail.get("photo") or {}
    size = photo.get("size") if isinstance(photo, dict) else None
    need = ev.thresholds.min_symbol_mm
    if ev.symbol is None:
        return out + [no_symbol(ev, "SYMBOL-005")]
    if not size:
        why_en, why_vi = ("the photo's evidence item declares no screen_width_mm",
                          "bằng chứng ảnh chụp không khai báo screen_width_mm")
        if ev.extra.get("screen_width_mm"):
            why_en, why_vi = ("the screen's outline was not found in the photo",
                              "không tìm thấy đường viền màn hình trong ảnh")
        return out + [not_applicable("SYMBOL-005", f"a camera photo shows no screen pixels; the physical size needs the "
                                     f"screen's width and outline: {why_en}", "ảnh chụp bằng máy ảnh không cho biết "
                                     f"điểm ảnh của màn hình; kích thước thực cần chiều rộng và đường viền màn hình: "
                                     f"{why_vi}")]
    mm, unc = float(size["symbol_mm"]), float(size.get("uncertainty_mm") or 0.0)
    m = {"size_mm": round(mm, 2), "uncertainty_mm": round(unc, 2), "method": size.get("method"),
         "screen_width_mm": ev.extra.get("screen_width_mm")}
    said_en, said_vi = f"{mm:.1f} ± {unc:.1f} mm", f"{mm:.1f} ± {unc:.1f} mm"
    if mm + unc < need:
        return out + [not_met("SYMBOL-005", f"symbol is {said_en} wide on the photographed screen, below {need:g} mm",
                              f"mã rộng {said_vi} trên màn hình được chụp, nhỏ hơn {need:g} mm", measured=m)]
    if mm - unc >= need:
        return out + [met("SYMBOL-005", f"symbol {said_en} wide on the photographed screen (minimum {need:g} mm)",
                          f"mã rộng {said_vi} trên màn hình được chụp (tối thiểu {need:g} mm)", measured=m)]
    return out + [unsure("SYMBOL-005", f"symbol {said_en} wide on the photographed screen: the minimum {need:g} mm lies "
                         "within the estimate's uncertainty", f"mã rộng {said_vi} trên màn hình được chụp: mức tối thiểu "
                         f"{need:g} mm nằm trong sai số của phép ước lượng", measured=m)]


@check("SYMBOL-008", kinds=PIXELS, needs=("symbols", "robustness"))
def symbol_robust_to_degradation(ev: EvidenceView) -> list[Observation]:
    """Still decodes under the profile's scanning degradations."""
    s = ev.symbol
    if s is None or ev.robustness is None:
        return [no_symbol(ev, "SYMBOL-008")]
    results = list(ev.robustness)
    ok = [r["name"] for r in results if r.get("decoded") and r.get("same_text")]
    ran = [r for r in results if not r.get("not_run")]
    failed = [r["name"] for r in ran if r["name"] not in ok]
    skipped = [r["name"] for r in results if r.get("not_run")]
    need = min(ev.thresholds.min_degradations_passed, len(results))
    measured = {"passed": ok, "failed": failed, "not_run": skipped}
    if need == 0:  # nothing to survive: the profile judges no robustness
        return [not_applicable("SYMBOL-008", "the profile sets no degradation that the symbol must survive",
                               "hồ sơ đánh giá không đặt ra suy giảm nào mà mã phải vượt qua", measured=measured)]
    if len(ok) < need:
        return [not_met("SYMBOL-008",
                        f"decodes under {len(ok)} of {len(results)} degradations (needs {need}); failed: "
                        f"{', '.join(failed)}",
                        f"giải mã được dưới {len(ok)}/{len(results)} suy giảm (cần {need}); không đạt: "
                        f"{', '.join(failed)}", measured=measured)]
    return [met("SYMBOL-008", f"decodes under {len(ok)} of {len(ran)} degradations tried (needs {need})",
                f"giải mã được dưới {len(ok)}/{len(ran)} suy giảm đã thử (cần {need})", measured=measured)]
