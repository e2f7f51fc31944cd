"""report.html: one self-contained, bilingual (Vietnamese / English) page built from results.json.

No network: CSS inline, screenshots embedded as base64 data URIs, no scripts, no external fonts.
Everything is escaped by Jinja2's autoescape.
"""
from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .annotate import annotate_screenshot, to_pil

TEMPLATE_DIR = Path(__file__).parent / "templates"
REPORT_IMAGE_WIDTH = 420

from conformance.words import (  # noqa: E402  (one table of words for every layer)
    KIND_WORDS, LEVEL_WORDS, MODE_WORDS, STATUS_MEANING, STATUS_WORDS, VERDICT_MEANING, VERDICT_WORDS)

PAYLOAD_FIELDS = ["SoGiayTo", "HoTen", "NgaySinh", "LoaiDinhDanh", "QID", "EXT"]
EXT_ITEMS = [("QID người khai hộ", "proxy QID"), ("Giới tính", "gender"), ("Mã thẻ BHYT", "BHYT number"),
             ("Số điện thoại", "phone"), ("Chữ ký điện tử", "signature")]

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


def _image_uri(img: Any, symbols: list[dict], redact: bool, ocr_boxes: list[dict] | None,
               highlights: list[dict] | None = None) -> str:
    pil = annotate_screenshot(img, symbols, redact=redact, ocr_boxes=ocr_boxes, highlights=highlights)
    w, h = pil.size
    if w > REPORT_IMAGE_WIDTH:
        pil = pil.resize((REPORT_IMAGE_WIDTH, max(1, round(h * REPORT_IMAGE_WIDTH / w))), 1)  # LANCZOS
    buf = io.BytesIO()
    pil.convert("RGB").save(buf, "JPEG", quality=82, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


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
    if not isinstance(payload, str) or "|" not in payload:
        return []
    parts = payload.split("|")
    rows = []
    for i, p in enumerate(parts):
        name = PAYLOAD_FIELDS[i] if i < len(PAYLOAD_FIELDS) else f"#{i + 1}"
        if i == 5:
            items = p.split("<")
            rows.append({"name": name, "value": p,
                         "ext_items": [{"label": EXT_ITEMS[j] if j < len(EXT_ITEMS) else (f"#{j + 1}", f"#{j + 1}"),
                                    "value": it} for j, it in enumerate(items)]})
        else:
            rows.append({"name": name, "value": p, "ext_items": []})
    return rows


def _reason(req: dict) -> dict | None:
    fs = [f for f in req.get("findings") or [] if isinstance(f, dict)]
    for f in fs:
        if f.get("status") != "pass":
            return f
    return None


def build_view(results: dict, images: dict[str, Any], *, redact: bool) -> dict[str, Any]:
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
    for e in results.get("evidence") or []:
        if isinstance(e, dict) and isinstance(e.get("index"), int):
            first_of_file.setdefault(e.get("file"), e["index"])
    for r in reqs:
        for f in r.get("findings") or []:
            item = {"req": r, "f": f}
            idx = f.get("item") if isinstance(f.get("item"), int) else first_of_file.get(f.get("evidence"))
            if idx is not None:
                by_ev.setdefault(idx, []).append(item)
            else:
                others.append(item)
    evidence = []
    for e in results.get("evidence") or []:
        if not isinstance(e, dict):
            continue
        syms = [s for s in e.get("symbols") or [] if isinstance(s, dict)]
        img_uri, img_error = None, None
        img = images.get(e.get("file")) if images else None
        if img is not None:
            try:
                img_uri = _image_uri(img, syms, redact, ocr_boxes_of(e.get("screen_text")),
                                     read_regions(by_ev.get(e.get("index"), [])))
            except Exception as exc:  # a broken picture must not lose the whole report
                img_error = f"{type(exc).__name__}: {exc}"
        st = e.get("screen_text") if isinstance(e.get("screen_text"), dict) else None
        ocr_lines = []
        if st:
            for ln in st.get("lines") or []:
                if isinstance(ln, dict) and ln.get("text"):
                    ocr_lines.append({"text": ln["text"], "conf": ln.get("conf")})
            if not ocr_lines and st.get("text"):
                ocr_lines = [{"text": t, "conf": None} for t in str(st["text"]).splitlines() if t.strip()]
        evidence.append({
            "e": e, "symbols": [{"s": s, "rows": symbol_rows(s)} for s in syms], "image": img_uri,
            "image_error": img_error, "payload_fields": payload_fields(e.get("payload")),
            "ocr_lines": ocr_lines, "ocr_error": (st or {}).get("error"), "ocr_error_vi": (st or {}).get("error_vi"),
            "findings": by_ev.get(e.get("index"), []),
            "ocr_boxes_known": ocr_boxes_of(e.get("screen_text")) is not None,
        })
    settings = (results.get("profile") or {}).get("settings") or {}
    prof_rows = []
    for k, v in _flatten(settings) if isinstance(settings, dict) else []:
        if k == "symbol.degradations" and isinstance(v, list):
            v = ", ".join(d.get("name", "?") if isinstance(d, dict) else str(d) for d in v)
        if k.startswith(("symbol.", "payload.", "display.")):
            prof_rows.append({"key": k, "label": PROFILE_LABELS.get(k), "value": _fmt(v)})
    return {
        "r": results, "req_1405": [x for x in req_rows if x["req"].get("origin") == "1405"],
        "req_derived": [x for x in req_rows if x["req"].get("origin") != "1405"],
        "counts": counts, "evidence": evidence, "other_findings": others, "profile_rows": prof_rows,
        "redacted": redact,
    }


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(STATUS_WORDS=STATUS_WORDS, STATUS_MEANING=STATUS_MEANING, VERDICT_WORDS=VERDICT_WORDS,
                       VERDICT_MEANING=VERDICT_MEANING, LEVEL_WORDS=LEVEL_WORDS, MODE_WORDS=MODE_WORDS,
                       KIND_WORDS=KIND_WORDS)
    env.filters["fmt"] = _fmt
    return env


def render_html(results: dict, images: dict[str, Any] | None = None, *, redact: bool = True) -> str:
    """The report page as a string. `results` must already be masked when `redact` is True."""
    view = build_view(results, images or {}, redact=redact)
    return _env().get_template("report.html.j2").render(**view)


def load_images(results: dict, root: Path, max_pixels: int = 40_000_000) -> dict[str, Any]:
    """Screenshots of the evidence items, read from the package folder (for callers that pass no images).

    Unreadable, oversized or errored evidence is skipped (the report then says there is no picture)."""
    from PIL import Image

    out: dict[str, Any] = {}
    for e in results.get("evidence") or []:
        if not (isinstance(e, dict) and e.get("kind") == "screenshot" and e.get("file")) or e.get("error"):
            continue
        p = Path(root) / e["file"]
        try:
            with Image.open(p) as im:
                if im.width * im.height > max_pixels:
                    continue
                out[e["file"]] = to_pil(im)
        except Exception:  # noqa: BLE001 - any broken file just has no picture in the report
            continue
    return out
