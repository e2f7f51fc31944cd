"""report.html (and the page report.pdf is printed from): one self-contained, bilingual (Vietnamese / English)
document built from results.json.

No network: CSS inline, screenshots embedded as base64 data URIs, no scripts, no external fonts.
Everything is escaped by Jinja2's autoescape.

Order: report metadata and verdict, the requirement table, what is not passed (every open finding, its
reproducer and waiver), waivers, the statement of scope, then the evidence: one compact row per item (grouped by
subject) and a detail card (annotated screenshot, key measurements, payload, findings) only for items with
non-pass findings (at most MAX_DETAIL_ITEMS) plus a small sample of passing ones (SAMPLE_PASS_ITEMS), so the
page grows with findings, not with items. The appendix holds the derived-measurement detail of the items shown
(every symbol measurement, the ISO/IEC 15415-style grade, the screen text), the profile and the environment; the
signature block closes the document.
"""
from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .annotate import annotate_screenshot

TEMPLATE_DIR = Path(__file__).parent / "templates"
REPORT_IMAGE_WIDTH = 420
PICTURE_THREADS = 4  # item pictures drawn at once (each holds a few copies of one screenshot in memory)
MAX_DETAIL_ITEMS = 40  # items with non-pass findings shown with picture and measurements
SAMPLE_PASS_ITEMS = 6  # passing items shown the same way, covering each (kind, mode) first
MAX_FINDINGS_PER_REQUIREMENT = 30  # open findings listed per requirement in "not passed" (all are in results.json)
ROWS_PER_PAGE = 250  # compact rows are shown in pages of this many items (manifest order), each folded unless
GROUP_OPEN_ITEMS = 250  # the package has at most this many items or the page holds an item not passed
MAX_PRINTED_ROWS = 300  # compact rows in the PDF (the full list is in report.html and results.json)

from conformance.payload import parse_payload  # noqa: E402
from conformance.rules.fields import EXT_ITEMS as _EXT_FIELDS  # noqa: E402
from conformance.rules.fields import FIELD_SEP, SPEC_FIELD_NAMES  # noqa: E402
from conformance.words import (  # noqa: E402  (one table of words for every layer)
    KIND_WORDS,
    LEVEL_WORDS,
    MODE_WORDS,
    STATUS_MEANING,
    STATUS_WORDS,
    VERDICT_MEANING,
    VERDICT_WORDS,
)

PAYLOAD_FIELDS = list(SPEC_FIELD_NAMES)
EXT_ITEMS = [(f.label_vi[:1].upper() + f.label_vi[1:], f.label_en) for f in _EXT_FIELDS]

# measured values of a symbol: key -> (vi, en); shown in this order, then any other key
SYMBOL_LABELS: dict[str, tuple[str, str]] = {
    "ecc": ("Mức sửa lỗi", "Error-correction level"),
    "ec_level": ("Mức sửa lỗi", "Error-correction level"),
    "version": ("Phiên bản QR", "QR version"),
    "mask": ("Mẫu mặt nạ", "Mask pattern"),
    "module_px": ("Kích thước mô-đun (px)", "Module size (px)"),
    "module_mm": ("Kích thước mô-đun (mm)", "Module size (mm)"),
    "size_px": ("Kích thước mã (px)", "Symbol size (px)"),
    "size_mm": ("Kích thước thực (mm)", "Physical size (mm)"),
    "quiet_zone_modules": ("Vùng trống (mô-đun)", "Quiet zone (modules)"),
    "quiet_zone_clipped": ("Vùng trống bị cắt bởi mép ảnh", "Quiet zone clipped by the image edge"),
    "quiet_zone_modules_measured": ("Vùng trống đo được (mô-đun, chưa trừ sai số)", "Quiet zone as measured (modules, no allowance)"),
    "quiet_zone_px": ("Vùng trống (điểm ảnh)", "Quiet zone (pixels)"),
    "decoder_errors": ("Lỗi của bộ giải mã tham chiếu", "Reference decoder errors"),
    "symbol_contrast": ("Độ tương phản SC (ISO/IEC 15415)", "Symbol contrast SC (ISO/IEC 15415)"),
    "wcag_contrast": ("Tỉ lệ tương phản WCAG", "WCAG contrast ratio"),
    "polarity": ("Cực tính", "Polarity"),
    "dark_luma": ("Độ sáng mô-đun tối", "Dark module luminance"),
    "light_luma": ("Độ sáng mô-đun sáng", "Light module luminance"),
    "uec": ("Dự trữ sửa lỗi chưa dùng (UEC)", "Unused error correction (UEC)"),
    "quality": ("Chất lượng hiển thị kiểu ISO/IEC 15415 (bổ sung, không thuộc QĐ 1405)",
                "ISO/IEC 15415-style display quality (derived, not 1405)"),
    "modes": ("Chế độ mã hoá", "Encoding modes"),
    "mode": ("Chế độ mã hoá", "Encoding mode"),
    "rotation": ("Góc xoay (độ)", "Rotation (degrees)"),
    "decoders": ("Bộ giải mã đọc được", "Decoders that read it"),
    "decoded_by": ("Bộ giải mã đọc được", "Decoders that read it"),
    "cross_check": ("Kiểm tra chéo lưới mô-đun", "Grid cross-check"),
    "grid": ("Kiểm tra chéo lưới mô-đun", "Grid cross-check"),
    "disagreements": ("Bất đồng giữa các bộ giải mã", "Disagreements between decoders"),
    "disagreement": ("Bất đồng giữa các bộ giải mã", "Disagreement between decoders"),
    "orientation_deg": ("Góc xoay (độ)", "Orientation (degrees)"),
    "eci": ("Có dùng ECI", "Uses ECI"),
    "metadata_source": ("Nguồn ECC/phiên bản/mặt nạ", "Source of ECC/version/mask"),
    "segments": ("Các đoạn dữ liệu", "Data segments"),
    "modules": ("Số mô-đun mỗi cạnh", "Modules per side"),
    "hamming": ("Khoảng cách Hamming (2 bản thông tin định dạng)", "Hamming distance (2 format-info copies)"),
    "mirrored": ("Bị lật gương", "Mirrored"),
}
SUB_LABELS: dict[str, tuple[str, str]] = {
    "agrees": ("khớp với bộ giải mã", "agrees with the decoder"),
    "agree": ("khớp với bộ giải mã", "agrees with the decoder"),
    "confident": ("đủ tin cậy", "confident"),
    "ok": ("đọc được", "read"),
}
VALUE_WORDS = {"dark-on-light": ("tối trên nền sáng", "dark on light"),
               "light-on-dark": ("sáng trên nền tối", "light on dark")}
# never shown as measured values (personal data or geometry drawn on the picture instead)
SYMBOL_HIDDEN = {"text", "bytes", "raw", "raw_bytes", "bytes_hex", "raw_hex", "data_hex", "raw_bytes_b64",
                 "bytes_b64", "raw_b64", "data_b64", "corners", "position", "quad", "polygon", "points", "box", "bbox",
                 "rect", "payload"}
PROFILE_LABELS: dict[str, tuple[str, str]] = {
    "symbol.min_ecc": ("Mức sửa lỗi tối thiểu", "Minimum error-correction level"),
    "symbol.min_quiet_zone_modules": ("Vùng trống tối thiểu (mô-đun)", "Minimum quiet zone (modules)"),
    "symbol.min_module_px": ("Mô-đun tối thiểu (px)", "Minimum module size (px)"),
    "symbol.min_symbol_mm": ("Kích thước mã tối thiểu (mm)", "Minimum symbol size (mm)"),
    "symbol.min_symbol_contrast": ("Độ tương phản SC tối thiểu", "Minimum symbol contrast SC"),
    "symbol.degradations": ("Các suy giảm thử nghiệm", "Degradations applied"),
    "symbol.min_degradations_passed": ("Số suy giảm tối thiểu phải đọc được", "Minimum degradations survived"),
    "payload.masking_in_default_mode": ("Che dữ liệu trong nội dung mã ở chế độ mặc định",
                                        "Masking inside the default-mode payload"),
    "display.toggle_max_seconds": ("Thời gian chuyển chế độ tối đa (giây)", "Maximum mode-switch time (s)"),
}


def _fmt(v: Any) -> Any:
    """Value -> display text (vi, en) pair or plain string."""
    if isinstance(v, bool):
        return ("có", "yes") if v else ("không", "no")
    if v is None:
        return "—"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.0f}"
    if isinstance(v, str) and v in VALUE_WORDS:
        return VALUE_WORDS[v]
    if isinstance(v, (list, tuple)):
        if all(not isinstance(x, (dict, list)) for x in v):
            return ", ".join(_plain(x) for x in v) if v else "—"
        return ", ".join(_plain(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_plain(x)}" for k, x in v.items())
    return str(v)


def _plain(v: Any) -> str:
    f = _fmt(v)
    return f"{f[0]} / {f[1]}" if isinstance(f, tuple) else str(f)


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and k not in ("decoders", "decoded_by"):
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, v))
    return out


def _decoders_value(v: Any, text: Any = None) -> Any:
    """{'zxing': True/'text'/None, 'zbar': False} or ['zxing', ...] -> 'zxing ✔, zbar ✘' ('≠' when a decoder
    read a different text from the symbol's)."""
    if isinstance(v, dict):
        parts, differs = [], False
        for name, r in v.items():
            ok = r if isinstance(r, bool) else (r.get("ok", r.get("read", bool(r))) if isinstance(r, dict)
                                                else r is not None)
            mark = "✔" if ok else "✘"
            if isinstance(r, str) and isinstance(text, str) and r != text:
                mark, differs = "≠", True
            parts.append(f"{name} {mark}")
        s = ", ".join(parts)
        return (s + " (≠ = đọc ra nội dung khác)", s + " (≠ = read a different text)") if differs else s
    return _fmt(v)


def symbol_rows(sym: dict) -> list[dict[str, Any]]:
    rows = []
    seen = set()
    keys = [k for k in SYMBOL_LABELS if k in sym] + [k for k in sym if k not in SYMBOL_LABELS]
    for k in keys:
        if k in SYMBOL_HIDDEN or k in seen:
            continue
        seen.add(k)
        v = sym[k]
        label = SYMBOL_LABELS.get(k)
        if k in ("decoders", "decoded_by"):
            rows.append({"label": label, "key": k, "value": _decoders_value(v, sym.get("text"))})
        elif isinstance(v, dict) and v:
            for sk, sv in _flatten(v, k + "."):
                last = sk.rsplit(".", 1)[-1]
                if last in SYMBOL_HIDDEN:
                    continue
                sub = SYMBOL_LABELS.get(last) or SUB_LABELS.get(last)
                if label and sub:
                    lab = (f"{label[0]} — {sub[0]}", f"{label[1]} — {sub[1]}")
                elif label:
                    lab = (f"{label[0]} — {last}", f"{label[1]} — {last}")
                else:
                    lab = sub
                rows.append({"label": lab, "key": sk, "value": _fmt(sv)})
        else:
            rows.append({"label": label, "key": k, "value": _fmt(v)})
    return rows


def picture_jpeg(img: Any, symbols: list[dict], redact: bool, ocr_boxes: list[dict] | None,
                 highlights: list[dict] | None = None) -> bytes:
    """The annotated picture of an evidence item as every report shows it (HTML, PDF, Allure): QR outlined, where
    the text was read outlined, redacted unless the user asked for personal data, REPORT_IMAGE_WIDTH wide, JPEG."""
    pil = annotate_screenshot(img, symbols, redact=redact, ocr_boxes=ocr_boxes, highlights=highlights)
    w, h = pil.size
    if w > REPORT_IMAGE_WIDTH:
        pil = pil.resize((REPORT_IMAGE_WIDTH, max(1, round(h * REPORT_IMAGE_WIDTH / w))), 1)  # LANCZOS
    buf = io.BytesIO()
    pil.convert("RGB").save(buf, "JPEG", quality=82, optimize=True)
    return buf.getvalue()


def _uri(jpeg: bytes | None) -> str | None:
    return None if jpeg is None else "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _draw_all(jobs: list[tuple[Any, Callable[[], Any]]], images: Any, redact: bool,
              pictures: dict[int, bytes] | None) -> list[tuple[bytes | None, str | None]]:
    """The pictures of the items shown in detail, drawn on a few threads (the image work releases the GIL): one
    (JPEG or None, error or None) per job (item index, arguments). A broken picture is that item's error only."""
    def draw(job: tuple[Any, Callable[[], Any]]) -> tuple[bytes | None, str | None]:
        index, args = job
        try:
            file, syms, boxes, highlights = args()
            img = images.get(file) if images else None
            if img is None:
                return None, None
            jpeg = picture_jpeg(img, syms, redact, boxes, highlights)
        except Exception as exc:  # noqa: BLE001 - a broken picture must not lose the whole report
            return None, f"{type(exc).__name__}: {exc}"
        if pictures is not None:
            pictures[index] = jpeg
        return jpeg, None

    from conformance.engine.run import default_workers

    threads = min(PICTURE_THREADS, len(jobs), default_workers())
    if threads <= 1:
        return [draw(j) for j in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads, thread_name_prefix="report-picture") as pool:
        return list(pool.map(draw, jobs))


def read_regions(items: list[dict]) -> list[dict]:
    """Where the screen-text judgements looked: the `box` of each DISPLAY finding read by OCR, labelled."""
    out = []
    for it in items:
        f = it.get("f") if isinstance(it, dict) else None
        m = (f or {}).get("measured") or {}
        if isinstance(m, dict) and m.get("part") == "screen_text" and m.get("box"):
            out.append({"box": m["box"], "label": f"{f.get('requirement')} {f.get('status')}"})
    return out


def ocr_boxes_of(screen_text: Any) -> list[dict] | None:
    """Text boxes of an OCR reading (lines and their alternative readings); None when there is no reading."""
    if not isinstance(screen_text, dict) or screen_text.get("error"):
        return None
    lines = screen_text.get("lines")
    if not isinstance(lines, list):
        return None
    boxes: list[dict] = []
    for ln in lines:
        if not isinstance(ln, dict):
            continue
        for item in [ln] + [a for a in (ln.get("alt") or []) if isinstance(a, dict)] \
                + [wd for wd in (ln.get("words") or []) if isinstance(wd, dict)]:
            if isinstance(item.get("box"), (list, tuple)):
                boxes.append({"box": item["box"], "role": ln.get("role")})
    return boxes


def payload_fields(payload: str | None) -> list[dict[str, Any]]:
    """The payload's fields and EXT items with their labels (split by the one parser, conformance.payload)."""
    if not isinstance(payload, str) or FIELD_SEP not in payload:
        return []
    parsed = parse_payload(payload)
    rows = []
    for i, p in enumerate(parsed.fields):
        name = PAYLOAD_FIELDS[i] if i < len(PAYLOAD_FIELDS) else f"#{i + 1}"
        items = parsed.ext_items if i == 5 and p != "" else ([""] if i == 5 else [])
        rows.append({"name": name, "value": p,
                     "ext_items": [{"label": EXT_ITEMS[j] if j < len(EXT_ITEMS) else (f"#{j + 1}", f"#{j + 1}"),
                                    "value": it} for j, it in enumerate(items)]})
    return rows


def _reason(req: dict) -> dict | None:
    fs = [f for f in req.get("findings") or [] if isinstance(f, dict)]
    for f in fs:
        if f.get("status") != "pass":
            return f
    return None


# the measurements shown on an evidence card (every other one is in the appendix): key -> short (vi, en) label
CONDENSED_LABELS: dict[str, tuple[str, str]] = {
    "ecc": ("Mức sửa lỗi", "ECC level"),
    "version": ("Phiên bản", "Version"),
    "mask": ("Mặt nạ", "Mask"),
    "module_px": ("Mô-đun (px)", "Module (px)"),
    "size_px": ("Cạnh mã (px)", "Side (px)"),
    "size_mm": ("Cạnh mã (mm)", "Side (mm)"),
    "quiet_zone_modules": ("Vùng trống (mô-đun)", "Quiet zone (modules)"),
    "symbol_contrast": ("Tương phản SC", "Contrast SC"),
    "wcag_contrast": ("Tương phản WCAG", "WCAG contrast"),
    "polarity": ("Cực tính", "Polarity"),
}


def condensed_rows(sym: dict) -> list[dict[str, Any]]:
    """The few measurements an assessor reads first (the derived detail goes to the appendix)."""
    rows = [{"label": lab, "value": _fmt(sym[k])} for k, lab in CONDENSED_LABELS.items() if k in sym]
    dec = sym.get("decoders", sym.get("decoded_by"))
    if dec is not None:
        rows.append({"label": ("Bộ giải mã", "Decoders"), "value": _decoders_value(dec, sym.get("text"))})
    grid = sym.get("grid", sym.get("cross_check"))
    if isinstance(grid, dict) and grid:
        same = all(grid.get(k) == sym.get(k) for k in ("ecc", "mask", "version")
                   if grid.get(k) is not None and sym.get(k) is not None)
        agree = grid.get("agrees", same)
        rows.append({"label": ("Đọc lưới kiểm tra chéo", "Grid cross-check"),
                     "value": ("khớp", "agrees") if agree else ("không khớp", "differs")})
    q = sym.get("quality")
    if isinstance(q, dict) and q.get("overall_grade"):
        rows.append({"label": ("Cấp chất lượng kiểu ISO/IEC 15415 (bổ sung)", "ISO/IEC 15415-style grade (derived)"),
                     "value": f"{q['overall_grade']} ({_plain(q.get('overall'))})" if q.get("overall") is not None
                     else str(q["overall_grade"])})
    return rows


def detail_rows(sym: dict) -> list[dict[str, Any]]:
    """The appendix rows of a symbol: every measurement not on its card (the card's are in CONDENSED_LABELS),
    a nested group (grid cross-check, segments) on one row, the quality grade apart (its own table)."""
    rows = []
    shown = set(CONDENSED_LABELS) | {"decoders", "decoded_by", "quality"} | SYMBOL_HIDDEN
    for k in [k for k in SYMBOL_LABELS if k in sym] + [k for k in sym if k not in SYMBOL_LABELS]:
        if k in shown:
            continue
        shown.add(k)
        v = sym[k]
        if isinstance(v, dict):
            v = "; ".join(f"{sk} {_plain(sv)}" for sk, sv in v.items() if sk not in SYMBOL_HIDDEN) or "—"
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            v = "; ".join(", ".join(f"{sk} {_plain(sv)}" for sk, sv in x.items()) for x in v)
        rows.append({"label": SYMBOL_LABELS.get(k), "key": k, "value": _fmt(v)})
    return rows


def _ocr_lines(st: dict | None) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    if st:
        for ln in st.get("lines") or []:
            if isinstance(ln, dict) and ln.get("text"):
                lines.append({"text": ln["text"], "conf": ln.get("conf")})
        if not lines and st.get("text"):
            lines = [{"text": t, "conf": None} for t in str(st["text"]).splitlines() if t.strip()]
    return lines


def _brief(e: dict) -> str:
    """One line of an item's symbol for the compact rows: 'M · v6 · 15 px · 38.2 mm · 3/3 decoders'."""
    syms = [s for s in e.get("symbols") or [] if isinstance(s, dict)]
    if not syms:
        return "—" if e.get("kind") != "payload" else ""
    s = syms[0]
    parts = []
    if s.get("ecc") or s.get("ec_level"):
        parts.append(str(s.get("ecc") or s.get("ec_level")))
    if s.get("version") is not None:
        parts.append(f"v{s['version']}")
    if isinstance(s.get("module_px"), (int, float)):
        parts.append(f"{_plain(s['module_px'])} px")
    if isinstance(s.get("size_mm"), (int, float)):
        parts.append(f"{_plain(s['size_mm'])} mm")
    dec = s.get("decoders")
    if isinstance(dec, dict) and dec:
        ok = sum(1 for v in dec.values() if v not in (None, False, ""))
        parts.append(f"{ok}/{len(dec)}")
    if len(syms) > 1:
        parts.append(f"×{len(syms)}")
    return " · ".join(parts)


def _pick_details(evidence: list[dict], by_ev: dict[int, list[dict]]) -> list[int]:
    """Indexes of the items shown as cards: those with non-pass findings or an error (first MAX_DETAIL_ITEMS),
    then a sample of passing items covering each (kind, mode) first, in manifest order."""
    open_items = [e["index"] for e in evidence if e.get("status") in ("fail", "warn", "review", "error")
                  or any(it["f"].get("status") not in ("pass", "not_applicable", "skip") for it in by_ev.get(e["index"], []))]
    chosen = open_items[:MAX_DETAIL_ITEMS]
    passing = [e for e in evidence if e["index"] not in set(open_items)]
    sample: list[int] = []
    seen: set[tuple[Any, Any]] = set()
    for e in passing:
        key = (e.get("kind"), e.get("mode"))
        if key not in seen and len(sample) < SAMPLE_PASS_ITEMS:
            seen.add(key)
            sample.append(e["index"])
    for e in passing:
        if len(sample) >= SAMPLE_PASS_ITEMS:
            break
        if e["index"] not in sample:
            sample.append(e["index"])
    return sorted(set(chosen) | set(sample))


def build_view(results: dict, images: dict[str, Any], *, redact: bool,
               pictures: dict[int, bytes] | None = None) -> dict[str, Any]:
    """Everything the report page shows. `pictures`: filled with each drawn item picture (JPEG) by item index, for
    the other reports to reuse (Allure)."""
    reqs = [r for r in results.get("requirements") or [] if isinstance(r, dict)]
    req_rows = [{"req": r, "reason": _reason(r)} for r in reqs]
    counts: dict[str, int] = {s: 0 for s in STATUS_WORDS}
    for r in reqs:
        counts[r.get("status", "error")] = counts.get(r.get("status", "error"), 0) + 1
    # findings belong to an evidence item by its index (files can repeat across items); package-level findings that
    # name a file go to the first item of that file
    by_ev: dict[int, list[dict]] = {}
    others: list[dict] = []
    first_of_file: dict[Any, int] = {}
    evidence = [e if isinstance(e.get("index"), int) else {**e, "index": i}  # format 1.0 documents had no index
                for i, e in enumerate(results.get("evidence") or []) if isinstance(e, dict)]
    for e in evidence:
        first_of_file.setdefault(e.get("file"), e["index"])
    for r in reqs:
        if r.get("status") == "not_run":
            continue
        for f in r.get("findings") or []:
            if not isinstance(f, dict):
                continue
            item = {"req": r, "f": f}
            idx = f.get("item") if isinstance(f.get("item"), int) else first_of_file.get(f.get("evidence"))
            if idx is not None:
                by_ev.setdefault(idx, []).append(item)
            else:
                others.append(item)
    open_reqs = []
    for r in reqs:
        if r.get("status") in ("pass", "not_applicable", "not_run"):
            continue
        fs = [f for f in r.get("findings") or [] if isinstance(f, dict) and f.get("status") == r.get("status")]
        open_reqs.append({"req": r, "findings": fs[:MAX_FINDINGS_PER_REQUIREMENT],
                          "more": max(0, len(fs) - MAX_FINDINGS_PER_REQUIREMENT)})
    detail_idx = set(_pick_details(evidence, by_ev))
    details: list[dict[str, Any]] = []
    rows = []
    jobs: list[tuple[Any, Callable[[], Any]]] = []
    for e in evidence:
        idx = e["index"]
        fs = by_ev.get(idx, [])
        open_fs = [it for it in fs if it["f"].get("status") not in ("pass", "not_applicable")]
        row = {"e": e, "brief": _brief(e), "open": open_fs, "detail": idx in detail_idx}
        rows.append(row)
        if idx not in detail_idx:
            continue
        syms = [s for s in e.get("symbols") or [] if isinstance(s, dict)]
        jobs.append((idx, lambda e=e, syms=syms, fs=fs: (e.get("file"), syms, ocr_boxes_of(e.get("screen_text")),
                                                         read_regions(fs))))
        st = e.get("screen_text") if isinstance(e.get("screen_text"), dict) else None
        shows_text = any(str(it["req"].get("id", "")).startswith("DISPLAY") for it in open_fs)
        frames = recording_frames(e, images, redact) if e.get("kind") == "recording" else []
        details.append({
            "frames": frames, "changes": recording_changes(e),
            "e": e, "symbols": [{"s": s, "rows": condensed_rows(s), "all_rows": detail_rows(s)} for s in syms],
            "image": None, "image_error": None, "payload_fields": payload_fields(e.get("payload")),
            "ocr_lines": _ocr_lines(st), "ocr_in_card": shows_text, "ocr_error": (st or {}).get("error"),
            "ocr_error_vi": (st or {}).get("error_vi"), "open": open_fs,
            "passed": sorted({it["req"].get("id") for it in fs if it["f"].get("status") == "pass"}),
            "na": sorted({it["req"].get("id") for it in fs if it["f"].get("status") in ("not_applicable", "skip")}),
            "ocr_boxes_known": ocr_boxes_of(e.get("screen_text")) is not None,
        })
    for d, (jpeg, error) in zip(details, _draw_all(jobs, images, redact, pictures)):
        d["image"], d["image_error"] = _uri(jpeg), error
    group_list = []
    for start in range(0, len(rows), ROWS_PER_PAGE):
        page = rows[start:start + ROWS_PER_PAGE]
        group_list.append({"first": page[0]["e"]["index"], "last": page[-1]["e"]["index"], "rows": page,
                           "counts": _status_counts(page),
                           "open": len(rows) <= GROUP_OPEN_ITEMS or any(
                               x["e"].get("status") not in ("pass", "not_applicable") for x in page)})
    settings = (results.get("profile") or {}).get("settings") or {}
    prof_rows = []
    for k, v in _flatten(settings) if isinstance(settings, dict) else []:
        if k == "symbol.degradations" and isinstance(v, list):
            v = ", ".join(d.get("name", "?") if isinstance(d, dict) else str(d) for d in v)
        if k.startswith(("symbol.", "payload.", "display.")):
            prof_rows.append({"key": k, "label": PROFILE_LABELS.get(k), "value": _fmt(v)})
    w = results.get("waivers") if isinstance(results.get("waivers"), dict) else None
    waiver_rows = []
    if w:
        for kind in ("expired", "unused", "applied"):
            for x in w.get(kind) or []:
                if isinstance(x, dict):
                    waiver_rows.append({"kind": kind, "w": x})
    return {
        "r": results, "meta": results.get("report") or {}, "req_1405": [x for x in req_rows
                                                                      if x["req"].get("origin") == "1405"],
        "req_derived": [x for x in req_rows if x["req"].get("origin") != "1405"],
        "counts": counts, "details": details, "groups": group_list, "n_items": len(rows),
        "other_findings": [it for it in others if it["f"].get("status") not in ("pass",)] or others,
        "profile_rows": prof_rows, "open_reqs": open_reqs, "waiver_rows": waiver_rows, "redacted": redact,
        "n_open_items": sum(1 for x in rows if x["open"] or x["e"].get("status") in ("fail", "warn", "review",
                                                                                      "error")),
        "n_detail": len(details),
    }


def _status_counts(rows: list[dict]) -> list[tuple[str, int]]:
    c: dict[str, int] = {}
    for x in rows:
        st = str(x["e"].get("status"))
        c[st] = c.get(st, 0) + 1
    return [(s, c[s]) for s in list(STATUS_WORDS) + sorted(set(c) - set(STATUS_WORDS)) if c.get(s)]


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    """One template environment per process: the report template is compiled once, not on every report."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(STATUS_WORDS=STATUS_WORDS, STATUS_MEANING=STATUS_MEANING, VERDICT_WORDS=VERDICT_WORDS,
                       VERDICT_MEANING=VERDICT_MEANING, LEVEL_WORDS=LEVEL_WORDS, MODE_WORDS=MODE_WORDS,
                       KIND_WORDS=KIND_WORDS)
    env.filters["fmt"] = _fmt
    env.filters["plain"] = _plain
    env.filters["local_time"] = _local_time
    return env


def _local_time(stamp: Any) -> str:
    """'2026-12-01T16:34:28+00:00' -> '2026-12-01 23:34:28 (UTC+07:00)' in Asia/Ho_Chi_Minh."""
    from .filing import local_time

    try:
        t = local_time(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    return f"{t[:10]} {t[11:19]} (UTC{t[19:]})"


def recording_frames(e: dict, images: dict[Any, Any], redact: bool) -> list[dict[str, Any]]:
    """The representative frame of each mode of a recording, drawn like a screenshot (QR outlined; redacted)."""
    out = []
    for f in e.get("frames") or []:
        if not isinstance(f, dict) or not isinstance(f.get("index"), int):
            continue
        img = images.get((e.get("index"), f["index"]))
        uri, error = None, None
        if img is not None:
            try:
                uri = _uri(picture_jpeg(img, [s for s in f.get("symbols") or [] if isinstance(s, dict)], redact, None,
                                        []))
            except Exception as exc:  # noqa: BLE001 - a broken picture must not lose the whole report
                error = f"{type(exc).__name__}: {exc}"
        out.append({"mode": f.get("mode"), "index": f["index"], "time": f.get("time"), "image": uri, "error": error})
    return out


def recording_changes(e: dict) -> list[dict[str, Any]]:
    """The display-mode changes a recording shows, with the frames and the action each is timed from."""
    rec = e.get("recording") if isinstance(e.get("recording"), dict) else {}
    toggle = rec.get("toggle") if isinstance(rec.get("toggle"), dict) else {}
    return [c for c in toggle.get("changes") or [] if isinstance(c, dict)]


def render_html(results: dict, images: dict[str, Any] | None = None, *, redact: bool = True, for_print: bool = False,
                view: dict[str, Any] | None = None) -> str:
    """The report page as a string. `results` must already be masked when `redact` is True. `for_print`: the page
    report.pdf is printed from (every group open, at most MAX_PRINTED_ROWS compact rows). `view`: a build_view()
    of the same document, to render both pages from one pass over the pictures."""
    view = view if view is not None else build_view(results, images or {}, redact=redact)
    return _env().get_template("report.html.j2").render(**view, for_print=for_print, max_printed_rows=MAX_PRINTED_ROWS)


def recording_frames_from_file(e: dict, root: Path) -> dict[tuple[int, int], Any]:
    """The recording's representative frames, by (item index, frame index): decoded again from the file, within
    the recording bounds of conformance/recording/decode.py (a broken or changed file just gives no picture)."""
    from conformance.recording.decode import RecordingError, open_recording

    wanted = sorted({f["index"] for f in e.get("frames") or [] if isinstance(f, dict) and isinstance(f.get("index"),
                                                                                                      int)})
    out: dict[tuple[int, int], Any] = {}
    if not wanted:
        return out
    try:
        with open_recording(root / e["file"]) as src:
            for frame in src.frames():
                if frame.index in wanted:
                    out[(e["index"], frame.index)] = frame.gray()
                if frame.index >= wanted[-1]:
                    break
    except (RecordingError, OSError):
        return out
    return out
