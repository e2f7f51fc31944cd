"""SYMBOL-*: the QR symbol as a scanner meets it. All derived (ISO/IEC 18004 = TCVN 7322:2009, ISO/IEC 15415
practice, scanning practice), thresholds from the assessment profile — never clauses of 1405."""
from __future__ import annotations

from conformance.checks._common import no_symbol
from conformance.checks.registry import check, finding

SHOT = ("screenshot",)
ECC_ORDER = "LMQH"


def _sym_measured(s, *names):
    return {n: getattr(s, n, None) for n in names}


@check("SYMBOL-001", kinds=SHOT)
def symbol_single_and_decodes(ev):
    """Exactly one QR symbol in the capture, and it decodes."""
    syms = ev.symbols
    if not syms:
        return finding("fail", "SYMBOL-001", "no QR symbol could be decoded in this capture",
                       "không giải mã được mã QR nào trong ảnh chụp này", measured={"symbols": 0})
    if len(syms) > 1 and len({s.text for s in syms}) == 1:
        return finding("pass", "SYMBOL-001", f"{len(syms)} copies of the same QR symbol; no other code a scanner "
                       "could read instead", f"{len(syms)} bản của cùng một mã QR; không có mã khác để máy quét đọc nhầm",
                       measured={"symbols": len(syms), "distinct": 1})
    if len(syms) > 1:
        return finding("fail", "SYMBOL-001",
                       f"{len(syms)} QR symbols on the screen; a checkpoint scanner may read another code instead "
                       "of the personal QR",
                       f"màn hình có {len(syms)} mã QR; máy quét tại chốt có thể đọc nhầm mã khác thay vì mã QR cá nhân",
                       measured={"symbols": len(syms)})
    return finding("pass", "SYMBOL-001", "exactly one QR symbol, decoded", "đúng một mã QR, giải mã được",
                   measured={"symbols": 1})


@check("SYMBOL-002", kinds=SHOT)
def symbol_decoders_agree(ev):
    """Every reference decoder reads the same text."""
    s = ev.symbol
    if s is None:
        return no_symbol(ev, "SYMBOL-002")
    reads = dict(s.decoders)
    missing = sorted(k for k, v in reads.items() if v is None)
    differ = sorted(k for k, v in reads.items() if v is not None and v != s.text)
    measured = {"decoders_read": sorted(k for k, v in reads.items() if v == s.text)}
    if missing or differ:
        parts_en, parts_vi = [], []
        if missing:
            parts_en.append(f"not read by {', '.join(missing)}")
            parts_vi.append(f"{', '.join(missing)} không đọc được")
        if differ:
            parts_en.append(f"different text from {', '.join(differ)}")
            parts_vi.append(f"{', '.join(differ)} đọc ra nội dung khác")
        return finding("warn", "SYMBOL-002", "; ".join(parts_en), "; ".join(parts_vi),
                       measured={**measured, "not_read": missing, "different": differ})
    return finding("pass", "SYMBOL-002", f"all {len(reads)} reference decoders read the same text",
                   f"cả {len(reads)} bộ giải mã tham chiếu đọc ra cùng nội dung", measured=measured)


@check("SYMBOL-003", kinds=SHOT)
def symbol_error_correction(ev):
    """Error-correction level at least the profile minimum (cross-checked against the format information)."""
    s = ev.symbol
    if s is None:
        return no_symbol(ev, "SYMBOL-003")
    need = ev.profile["symbol"]["min_ecc"]
    grid = s.grid or {}
    measured = {"ecc": s.ecc, "grid_ecc": grid.get("ecc"), "grid_confident": grid.get("confident"),
                "disagreements": list(s.disagreements)}
    if s.ecc is None:
        return finding("review", "SYMBOL-003", "error-correction level could not be read",
                       "không đọc được mức sửa lỗi", measured=measured)
    note_en = f" (disagreement: {'; '.join(s.disagreements)})" if s.disagreements else ""
    note_vi = f" (không khớp: {'; '.join(s.disagreements)})" if s.disagreements else ""
    if ECC_ORDER.index(s.ecc) < ECC_ORDER.index(need):
        return finding("warn", "SYMBOL-003", f"error-correction level {s.ecc} is below the profile minimum {need}{note_en}",
                       f"mức sửa lỗi {s.ecc} thấp hơn mức tối thiểu {need} của hồ sơ{note_vi}",
                       expected=f">= {need}", found=s.ecc, measured=measured)
    return finding("pass", "SYMBOL-003", f"error-correction level {s.ecc} (minimum {need}){note_en}",
                   f"mức sửa lỗi {s.ecc} (tối thiểu {need}){note_vi}", found=s.ecc, measured=measured)


@check("SYMBOL-004", kinds=SHOT)
def symbol_quiet_zone(ev):
    """Quiet zone at least the profile minimum, in modules."""
    s = ev.symbol
    if s is None:
        return no_symbol(ev, "SYMBOL-004")
    need = ev.profile["symbol"]["min_quiet_zone_modules"]
    qz = s.quiet_zone_modules
    if qz is None:
        return finding("review", "SYMBOL-004", "quiet zone could not be measured", "không đo được vùng trống",
                       expected=f">= {need} modules")
    if qz < need and getattr(s, "quiet_zone_clipped", False):
        return finding("review", "SYMBOL-004",
                       f"only {qz} modules of quiet zone are visible before the edge of the capture; the screen may "
                       "have more beyond it: check a capture showing the whole code area",
                       f"chỉ thấy {qz} mô-đun vùng trống trước mép ảnh chụp; màn hình có thể còn rộng hơn: "
                       "hãy xem ảnh chụp đầy đủ vùng mã", expected=f">= {need}", found=str(qz),
                       measured={"quiet_zone_modules": qz, "clipped": True})
    if qz < need:
        return finding("warn", "SYMBOL-004", f"quiet zone is {qz} modules, below the minimum of {need}",
                       f"vùng trống rộng {qz} mô-đun, nhỏ hơn mức tối thiểu {need}",
                       expected=f">= {need}", found=str(qz), measured={"quiet_zone_modules": qz})
    return finding("pass", "SYMBOL-004", f"quiet zone {qz} modules (minimum {need})",
                   f"vùng trống {qz} mô-đun (tối thiểu {need})", measured={"quiet_zone_modules": qz})


@check("SYMBOL-005", kinds=SHOT)
def symbol_size(ev):
    """Module size in the capture, and physical size when the device ppi is known."""
    s = ev.symbol
    if s is None:
        return no_symbol(ev, "SYMBOL-005")
    prof = ev.profile["symbol"]
    out = []
    mpx = s.module_px
    if mpx is None:
        out.append(finding("review", "SYMBOL-005", "module size could not be measured", "không đo được kích thước mô-đun"))
    elif mpx < prof["min_module_px"]:
        out.append(finding("warn", "SYMBOL-005", f"module is {mpx:.2f} px, below the minimum of {prof['min_module_px']} px",
                           f"mô-đun rộng {mpx:.2f} px, nhỏ hơn mức tối thiểu {prof['min_module_px']} px",
                           measured={"module_px": round(mpx, 3)}))
    else:
        out.append(finding("pass", "SYMBOL-005", f"module {mpx:.2f} px (minimum {prof['min_module_px']} px)",
                           f"mô-đun {mpx:.2f} px (tối thiểu {prof['min_module_px']} px)", measured={"module_px": round(mpx, 3)}))
    mm = s.size_mm
    if mm is None:
        out.append(finding("not_applicable", "SYMBOL-005", "physical size not judged: the device's ppi is not given",
                           "không đánh giá kích thước thực: chưa khai báo ppi của thiết bị"))
    elif mm < prof["min_symbol_mm"]:
        out.append(finding("warn", "SYMBOL-005", f"symbol is {mm:.1f} mm wide on the device, below {prof['min_symbol_mm']} mm",
                           f"mã rộng {mm:.1f} mm trên thiết bị, nhỏ hơn {prof['min_symbol_mm']} mm",
                           measured={"size_mm": round(mm, 2), "ppi": ev.package.ppi}))
    else:
        out.append(finding("pass", "SYMBOL-005", f"symbol {mm:.1f} mm wide on the device (minimum {prof['min_symbol_mm']} mm)",
                           f"mã rộng {mm:.1f} mm trên thiết bị (tối thiểu {prof['min_symbol_mm']} mm)",
                           measured={"size_mm": round(mm, 2), "ppi": ev.package.ppi}))
    return out


@check("SYMBOL-006", kinds=SHOT)
def symbol_polarity_contrast(ev):
    """Dark modules on a light background with symbol contrast at least the profile minimum."""
    s = ev.symbol
    if s is None:
        return no_symbol(ev, "SYMBOL-006")
    need = ev.profile["symbol"]["min_symbol_contrast"]
    measured = _sym_measured(s, "polarity", "symbol_contrast", "wcag_contrast", "dark_luma", "light_luma")
    q = getattr(s, "quality", None) or {}
    if q:  # reported for the assessor; the profile's SC threshold decides
        measured["iso15415_style_grade"] = q.get("overall_grade")
        measured["iso15415_style_sc"] = q.get("sc")
    out = []
    if s.polarity != "dark-on-light":
        out.append(finding("warn", "SYMBOL-006", f"symbol is {s.polarity}; ISO/IEC 18004 expects dark modules on a light background",
                           f"mã có dạng {s.polarity}; ISO/IEC 18004 yêu cầu mô-đun tối trên nền sáng", measured=measured))
    sc = s.symbol_contrast
    if sc is None:
        out.append(finding("review", "SYMBOL-006", "symbol contrast could not be measured", "không đo được độ tương phản"))
    elif sc < need:
        out.append(finding("warn", "SYMBOL-006", f"symbol contrast {sc:.0%} is below the minimum {need:.0%}",
                           f"độ tương phản {sc:.0%} thấp hơn mức tối thiểu {need:.0%}", measured=measured))
    if out:
        return out
    return finding("pass", "SYMBOL-006", f"dark on light, symbol contrast {sc:.0%} (minimum {need:.0%})",
                   f"tối trên nền sáng, độ tương phản {sc:.0%} (tối thiểu {need:.0%})", measured=measured)


@check("SYMBOL-007", kinds=SHOT)
def symbol_encoding_and_version(ev):
    """Byte-mode ASCII payload, version no larger than needed at its ECC level."""
    s = ev.symbol
    if s is None:
        return no_symbol(ev, "SYMBOL-007")
    from conformance.symbol import min_version_for

    raw = s.raw_bytes or (s.text or "").encode("utf-8")
    out = []
    measured = {"mode": s.mode, "eci": s.eci, "version": s.version, "bytes": len(raw)}
    non_ascii = [i for i, b in enumerate(raw) if b > 0x7E or (b < 0x20)]
    if non_ascii:
        out.append(finding("warn", "SYMBOL-007", f"payload has {len(non_ascii)} non-ASCII or control byte(s), first at byte {non_ascii[0]}",
                           f"nội dung có {len(non_ascii)} byte ngoài ASCII hoặc ký tự điều khiển, đầu tiên tại byte {non_ascii[0]}",
                           position=non_ascii[0], measured=measured))
    if s.mode is not None and s.mode != "byte":
        out.append(finding("warn", "SYMBOL-007", f"data is encoded in {s.mode} mode, not byte mode",
                           f"dữ liệu được mã hoá ở chế độ {s.mode}, không phải chế độ byte", found=s.mode, expected="byte",
                           measured=measured))
    if s.ecc and s.version:
        need = min_version_for(raw, s.ecc)
        measured["min_version"] = need
        if s.version > need:
            out.append(finding("warn", "SYMBOL-007",
                               f"version {s.version} is larger than the {need} this payload needs at ECC {s.ecc}: "
                               "smaller modules for no gain",
                               f"phiên bản {s.version} lớn hơn phiên bản {need} mà nội dung cần ở mức sửa lỗi {s.ecc}: "
                               "mô-đun nhỏ hơn mà không được lợi gì",
                               expected=f"<= {need}", found=str(s.version), measured=measured))
    if out:
        return out
    mode_en = s.mode or "mode not determined"
    return finding("pass", "SYMBOL-007", f"ASCII payload, {mode_en}, version {s.version} (smallest possible)",
                   f"nội dung ASCII, {s.mode or 'chưa xác định chế độ'}, phiên bản {s.version} (nhỏ nhất có thể)",
                   measured=measured)


@check("SYMBOL-008", kinds=SHOT)
def symbol_robust_to_degradation(ev):
    """Still decodes under the profile's scanning degradations."""
    s = ev.symbol
    if s is None:
        return no_symbol(ev, "SYMBOL-008")
    from conformance.symbol import robustness

    prof = ev.profile["symbol"]
    results = robustness(ev.analysis, s, prof["degradations"])
    ok = [r["name"] for r in results if r.get("decoded") and r.get("same_text")]
    failed = [r["name"] for r in results if r["name"] not in ok]
    need = min(prof["min_degradations_passed"], len(results))
    measured = {"passed": ok, "failed": failed}
    if len(ok) < need:
        return finding("warn", "SYMBOL-008",
                       f"decodes under {len(ok)} of {len(results)} degradations (needs {need}); failed: {', '.join(failed)}",
                       f"giải mã được dưới {len(ok)}/{len(results)} suy giảm (cần {need}); không đạt: {', '.join(failed)}",
                       measured=measured)
    return finding("pass", "SYMBOL-008", f"decodes under {len(ok)} of {len(results)} degradations",
                   f"giải mã được dưới {len(ok)}/{len(results)} suy giảm", measured=measured)
