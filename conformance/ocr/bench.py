"""Measure DISPLAY-001/002 screen-text judgements over a varied corpus (developer tool, not used by the checks).

    python -m conformance.ocr.bench [--n-random 24] [--jobs 2] [--out /tmp/ocr-bench.json] [--compare]
    python -m conformance.ocr.bench --web 60 [--web-hard] [--compare]      # browser-rendered pages

Corpus (real Tesseract on real renderings, nothing mocked):
  - the committed fixture candidates' screenshots (fixtures/candidates/*/screens/*): every screenshot of a candidate
    whose expected DISPLAY status is "pass" must pass; for the display-defect candidates the default-mode screenshot
    must not pass the defective requirement;
  - conformant screens from fixtures.synth.screens.random_style(seed), both modes, with forced serif fonts, the
    two_column layout and JPEG q=70 variants;
  - the reference app's renderer (conformance.refapp.render, Noto Sans Bold 48 px values);
  - defect screens: 5 stars, 7 stars, full number in default mode, year masked, masked in full mode;
  - with --system-ui: conformant screens in Android / iOS frames with keyboards and the capture toolbar (group ui,
    must pass) and hostile screens showing the whole value turned, faint, in small capitals or outlined beside the
    readable masked values (group hostile, must not pass).
Prints the pass / review / fail rates per group, how many screens were read whole and how many have unread regions,
and the CPU time of one reading per screenshot (`ocr_cpu_ms_*`: this process's CPU time plus that of Tesseract child
processes; each worker starts its OCR engines once before the measured reads). --compare runs every screen as the
reader was (whole screen by the tesseract command, no unread-text check) and as it is, side by side.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _exclude_boxes_from_decoders(gray) -> list[list[int]]:
    from conformance.symbol.analyse import analyse_image

    an = analyse_image(gray)
    out = []
    for s in an.symbols:
        xs = [p[0] for p in s.corners]
        ys = [p[1] for p in s.corners]
        if xs:
            out.append([int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1])
    return out


def corpus(n_random: int = 24, seed_base: int = 1000, fixtures: bool = True,
           hostile: bool = False) -> list[dict[str, Any]]:
    """Items: {label, group, img (PIL RGB), boxes, subject, mode, want: {rid: 'pass'|'not_pass'|'not_fail'}}."""
    from PIL import Image

    from conformance.payload.record import build_payload
    from fixtures.synth.people import make_people
    from fixtures.synth.screens import ScreenStyle, jpeg, qr_boxes, random_style, render_screen_with_truth

    items: list[dict[str, Any]] = []
    # --- committed fixture candidates
    for cdir in sorted((ROOT / "fixtures" / "candidates").glob("*")) if fixtures else []:
        try:
            cand = json.loads((cdir / "candidate.json").read_text())
            exp = json.loads((cdir / "expected.json").read_text())["statuses"]
        except Exception:  # noqa: BLE001
            continue
        subjects = {s["id"]: s for s in cand.get("subjects", [])}
        for ev in cand.get("evidence", []):
            if ev.get("kind") != "screenshot" or ev.get("subject") not in subjects:
                continue
            path = cdir / ev["file"]
            try:
                img = Image.open(path).convert("RGB")
            except Exception:  # noqa: BLE001
                continue
            want = {}
            for rid in ("DISPLAY-001", "DISPLAY-002"):
                st = exp.get(rid)
                if st == "pass":
                    want[rid] = "pass"
                elif st == "fail":
                    bad_mode = "full" if "masked-in-full" in cdir.name else "default"
                    want[rid] = "not_pass" if ev["mode"] == bad_mode else "pass"
            if not want:
                continue
            defect = any(v == "not_pass" for v in want.values())
            items.append({"label": f"fixture {cdir.name}/{ev['file']}", "group": "defect" if defect else "conformant",
                          "img": img, "boxes": None, "subject": subjects[ev["subject"]], "mode": ev["mode"],
                          "want": want})

    ppl = make_people(2024 + seed_base, 80)
    cccd = [p for p in ppl if len(p["so_giay_to"]) == 12 and p["so_giay_to"].isdigit()]
    cmnd = [p for p in ppl if len(p["so_giay_to"]) == 9 and p["so_giay_to"].isdigit()]

    def synth(label, group, subject, mode, style, want, quality=None):
        img, truth = render_screen_with_truth(subject, build_payload(subject, masked=mode == "default"), mode=mode,
                                              style=style)
        if quality:
            img = jpeg(img, quality)
        boxes = qr_boxes(truth)
        items.append({"label": label, "group": group, "img": img, "boxes": boxes, "subject": subject, "mode": mode,
                      "want": want})

    ok = {"DISPLAY-001": "pass", "DISPLAY-002": "pass"}
    fonts = ["noto", "liberation_serif", "noto_serif", "dejavu", "liberation", "dejavu_condensed"]
    layouts = ["card_top", "text_above", "two_column", "green_card"]
    for i in range(n_random):
        seed = seed_base + i
        over = {"font": fonts[i % len(fonts)], "layout": layouts[(i // 2) % len(layouts)],
                "theme": ("light", "dark")[(i // 3) % 2]}
        style = random_style(seed, **over)
        subj = (cmnd if i % 5 == 4 else cccd)[i % 7]
        mode = ("default", "full")[i % 2]
        q = 70 if i % 3 == 2 else None
        synth(f"random {seed} {over['font']}/{over['layout']}/{over['theme']}{' q70' if q else ''}", "conformant",
              subj, mode, style, ok, q)
        if mode == "default" and i % 4 == 0:  # same style, other mode
            synth(f"random {seed} full", "conformant", subj, "full", style, ok)

    # --- reference app renderer (Noto Sans Bold 48 px value)
    from conformance.refapp.render import screen_png

    for k, subj in enumerate(cccd[:3] + cmnd[:1]):
        for mode in ("default", "full"):
            payload = build_payload(subj, masked=mode == "default")
            from conformance.payload.record import mask_date_of_birth, mask_document_number

            shown = dict(subj)
            if mode == "default":
                shown["so_giay_to"] = mask_document_number(subj["so_giay_to"])
                shown["ngay_sinh"] = mask_date_of_birth(subj["ngay_sinh"])
            png, info = screen_png(payload, shown, mode)
            img = Image.open(io.BytesIO(png)).convert("RGB")
            x, y, w, h = info["qr_box"]
            items.append({"label": f"refapp {k} {mode}", "group": "conformant", "img": img,
                          "boxes": [[x, y, x + w, y + h]], "subject": subj, "mode": mode, "want": ok})

    # --- defects on varied styles
    for i in range(n_random // 2 + 4):
        seed = seed_base + 4000 + i
        style = random_style(seed, font=fonts[(i + 1) % len(fonts)], layout=layouts[i % len(layouts)])
        subj = cccd[(i + 3) % len(cccd)]
        no = subj["so_giay_to"]
        y, m, d = subj["ngay_sinh"].split("-")
        iso = style.date_style == "iso"
        kind = i % 5
        if kind == 0:
            over, mode, want, lab = {"displayed_doc": "*****" + no[5:]}, "default", {"DISPLAY-001": "not_pass",
                                                                                    "DISPLAY-002": "not_fail"}, "5 stars"
        elif kind == 1:
            over, mode, want, lab = {"displayed_doc": "*******" + no[7:]}, "default", {
                "DISPLAY-001": "not_pass", "DISPLAY-002": "not_fail"}, "7 stars"
        elif kind == 2:
            over, mode, want, lab = {"displayed_doc": no}, "default", {"DISPLAY-001": "not_pass",
                                                                      "DISPLAY-002": "not_fail"}, "full number"
        elif kind == 3:
            over = {"displayed_dob": f"****-{m}-{d}" if iso else f"{d}/{m}/****"}
            mode, want, lab = "default", {"DISPLAY-001": "not_fail", "DISPLAY-002": "not_pass"}, "year masked"
        else:
            over = {"displayed_doc": "******" + no[6:], "displayed_dob": f"{y}-**-**" if iso else f"**/**/{y}"}
            mode, want, lab = "full", {"DISPLAY-001": "not_pass", "DISPLAY-002": "not_pass"}, "masked in full"
        st = ScreenStyle(**{**style.__dict__, **over})
        synth(f"defect {lab} {seed} {st.font}/{st.layout}/{st.theme}", "defect", subj, mode, st, want,
              70 if i % 4 == 3 else None)
    # system UI (group "ui": conformant screens in Android / iOS frames, keyboards, the capture toolbar) and hostile
    # screens (group "hostile": the masked values readable plus the whole value turned, faint, in small capitals
    # or outlined: DISPLAY-001 or -002 must not pass)
    if hostile:
        frames = [dict(frame="android"), dict(frame="ios"), dict(frame="android", keyboard="qwerty", info_cards=False),
                  dict(frame="ios", keyboard="numeric", info_cards=False, frame_cutout="notch"),
                  dict(frame="android", android_nav="buttons", screenshot_toolbar=True),
                  dict(frame="ios", rounded_corners=True, screenshot_toolbar=True)]
        for i, fr in enumerate(frames * 2):
            seed = seed_base + 7000 + i
            st = random_style(seed, font=fonts[i % len(fonts)], layout=("card_top", "green_card", "two_column")[i % 3],
                              extra_qr=False, **fr)
            subj = (cmnd if i % 4 == 3 else cccd)[(i + 2) % 7]
            synth(f"ui {seed} {fr}", "ui", subj, ("default", "full")[i % 2], st, ok, 70 if i % 5 == 4 else None)
        looks = ["rotated", "faint", "small_caps", "outlined"]
        for i in range(12):
            seed = seed_base + 8000 + i
            look, field = looks[i % 4], ("doc", "dob")[(i // 4) % 2]
            st = random_style(seed, font=fonts[i % len(fonts)], layout=("card_top", "green_card")[i % 2],
                              extra_qr=False, leak=look, leak_field=field)
            rid = "DISPLAY-001" if field == "doc" else "DISPLAY-002"
            synth(f"hostile {look} {field} {seed}", "hostile", cccd[i % 7], "default", st, {rid: "not_pass"})
    # CMND defects (9 digits: 6 masked)
    for i, (disp, lab) in enumerate([(lambda n: "*****" + n[5:], "cmnd 5 stars"),
                                     (lambda n: "*******" + n[7:], "cmnd 7 stars")]):
        subj = cmnd[i]
        st = random_style(seed_base + 6000 + i, font=("noto", "liberation_serif")[i], displayed_doc=disp(subj["so_giay_to"]))
        synth(f"defect {lab}", "defect", subj, "default", st, {"DISPLAY-001": "not_pass", "DISPLAY-002": "not_fail"})
    return items


# ---------------------------------------------------------------- browser-rendered app screens
WEB_FONTS = ["DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "DejaVu Sans Condensed", "Liberation Sans",
             "Liberation Serif", "Liberation Mono", "Noto Sans", "Noto Serif"]
WEB_DPRS = [1.5, 1.75, 2.0, 2.625, 3.0, 3.5]
WEB_LAYOUTS = ["table", "stacked", "inline"]
WEB_DEFECTS = ["5 stars", "7 stars", "full number", "year masked", "masked in full"]
WEB_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]

WEB_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>
body{{margin:0;background:{bg};color:{fg};font-family:'{font}';}}
header{{background:{accent};color:#fff;padding:14px 16px;font-size:19px;font-weight:600}}
.wrap{{padding:16px}} .qr{{background:#fff;padding:14px;border-radius:12px;width:fit-content;margin:12px auto}}
.qr img{{display:block;width:{qr_css}px;height:{qr_css}px;image-rendering:pixelated}}
h2{{font-size:18px;text-align:center;margin:10px 0}}
.rows{{font-size:{fs}px}} .v{{font-weight:{weight};letter-spacing:{ls}px}} .lab{{color:{muted}}}
table{{width:100%;border-collapse:collapse}} td{{padding:8px 4px;border-bottom:1px solid {line}}} td.v{{text-align:right}}
.st div.lab{{font-size:{fs_small}px;margin-top:10px}} .st div.v{{padding:2px 0 8px;border-bottom:1px solid {line}}}
.il p{{margin:8px 0}}
button{{display:block;margin:18px auto;padding:10px 22px;border:0;border-radius:20px;background:{accent};color:#fff;
font-size:15px}}</style></head><body><header>Thẻ QR cá nhân</header><div class="wrap">
<h2>{name}</h2><div class="qr"><img id="qr" src="data:image/png;base64,{png}"></div><div class="rows">{rows}</div>
<button>{toggle}</button></div></body></html>"""


def _web_rows(layout: str, doc_label: str, doc: str, dob: str) -> str:
    rows = [(doc_label, doc), ("Ngày sinh", dob), ("Cập nhật", "08:15 12/10/2021")]
    if layout == "table":
        return "<table>" + "".join(f'<tr><td class="lab">{a}</td><td class="v">{b}</td></tr>' for a, b in rows) + \
            "</table>"
    if layout == "stacked":
        return '<div class="st">' + "".join(f'<div class="lab">{a}</div><div class="v">{b}</div>'
                                             for a, b in rows) + "</div>"
    return '<div class="il">' + "".join(f'<p><span class="lab">{a}:</span> <span class="v">{b}</span></p>'
                                         for a, b in rows) + "</div>"


def web_spec(person: dict[str, Any], look: dict[str, Any], mode: str, defect: str | None = None) -> dict[str, Any]:
    """One page spec: the person's values as a conformant app shows them in `mode`, or with a defect of
    WEB_DEFECTS ("masked in full" is drawn in full mode, the others in default mode), and what the judge must say."""
    dark = look["dark"]
    no = person["so_giay_to"]
    y, m, d = person["ngay_sinh"].split("-")
    doc = "******" + no[6:] if mode == "default" else no
    dob = (f"{y}-**-**" if look["iso"] else f"**/**/{y}") if mode == "default" else \
        (f"{y}-{m}-{d}" if look["iso"] else f"{d}/{m}/{y}")
    want = {"DISPLAY-001": "pass", "DISPLAY-002": "pass"}
    if defect == "5 stars":
        doc, want = "*****" + no[5:], {"DISPLAY-001": "not_pass", "DISPLAY-002": "not_fail"}
    elif defect == "7 stars":
        doc, want = "*******" + no[7:], {"DISPLAY-001": "not_pass", "DISPLAY-002": "not_fail"}
    elif defect == "full number":
        doc, want = no, {"DISPLAY-001": "not_pass", "DISPLAY-002": "not_fail"}
    elif defect == "year masked":
        dob = f"****-{m}-{d}" if look["iso"] else f"{d}/{m}/****"
        want = {"DISPLAY-001": "not_fail", "DISPLAY-002": "not_pass"}
    elif defect == "masked in full":
        doc = "******" + no[6:]
        dob = f"{y}-**-**" if look["iso"] else f"**/**/{y}"
        want = {"DISPLAY-001": "not_pass", "DISPLAY-002": "not_pass"}
    label = (f"web {'defect ' + defect if defect else 'ok'} {look['font']} w{look['weight']} ls{look['ls']} "
             f"{look['fs']}px dpr{look['dpr']} {'dark' if dark else 'light'} {look['layout']} "
             f"{'cmnd' if len(no) == 9 else 'cccd'} {'iso' if look['iso'] else 'dmy'}")
    return {"label": label, "group": "defect" if defect else "conformant", "subject": person, "mode": mode,
            "want": want, "look": look, "doc": doc, "dob": dob}


def web_specs(n_conformant: int = 120, n_defect: int = 40, seed: int = 7, *, fonts: list[str] | None = None,
              weights: list[int] | None = None, dprs: list[float] | None = None,
              default_only: bool = False) -> list[dict[str, Any]]:
    """Random page specs (no rendering): a conformant set and a defect set, each with what the judge must say.
    fonts / weights / dprs narrow the draw (a "hard" corpus: bold serif at high dpr); default_only draws every
    conformant page in default (masked) mode."""
    import random

    from fixtures.synth.people import make_people

    rng = random.Random(seed)
    ppl = make_people(9000 + seed, 120)
    cccd = [p for p in ppl if len(p["so_giay_to"]) == 12 and p["so_giay_to"].isdigit()]
    cmnd = [p for p in ppl if len(p["so_giay_to"]) == 9 and p["so_giay_to"].isdigit()]
    specs = []
    for i in range(n_conformant + n_defect):
        defect = WEB_DEFECTS[(i - n_conformant) % len(WEB_DEFECTS)] if i >= n_conformant else None
        person = dict(rng.choice(cmnd if (rng.random() < 0.3 and defect is None) else cccd))
        dark = rng.random() < 0.35
        look = {
            "font": rng.choice(fonts or WEB_FONTS), "weight": rng.choice(weights or [400, 600, 700]),
            "ls": rng.choice([0, 0, 0.5]), "fs": rng.randint(14, 20), "dpr": rng.choice(dprs or WEB_DPRS),
            "dark": dark, "layout": rng.choice(WEB_LAYOUTS),
            "iso": rng.random() < 0.35, "width": rng.choice([360, 390, 412, 430]),
        }
        mode = "full" if defect == "masked in full" else (
            "default" if defect or default_only else rng.choice(["default", "full"]))
        specs.append(web_spec(person, look, mode, defect))
    return specs


def render_web(specs: list[dict[str, Any]], quality: int = 85) -> list[dict[str, Any]]:
    """Render every spec in one headless Chromium (one context per dpr/width); adds "img" (PIL RGB, from a JPEG
    screenshot) and "boxes" (the QR image box in device pixels) to each spec."""
    import base64

    import segno
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from conformance.payload.record import build_payload

    out = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=WEB_ARGS)
        try:
            pages: dict[tuple, Any] = {}
            for sp in specs:
                lk = sp["look"]
                key = (lk["dpr"], lk["width"])
                if key not in pages:
                    ctx = b.new_context(viewport={"width": lk["width"], "height": 844}, device_scale_factor=lk["dpr"])
                    pages[key] = ctx.new_page()
                page = pages[key]
                q = segno.make_qr(build_payload(sp["subject"], masked=sp["mode"] == "default"), error="m",
                                  boost_error=False)
                buf = io.BytesIO()
                q.save(buf, kind="png", scale=1, border=4)
                n = q.symbol_size(scale=1, border=4)[0]
                dark = lk["dark"]
                html = WEB_PAGE.format(
                    bg="#121212" if dark else "#f6f7f9", fg="#eee" if dark else "#111", muted="#aaa" if dark else "#555",
                    line="#333" if dark else "#ddd", accent="#1565c0" if dark else "#0b6e4f", font=lk["font"],
                    weight=lk["weight"], ls=lk["ls"], fs=lk["fs"], fs_small=max(12, lk["fs"] - 3),
                    qr_css=min(n * 3, lk["width"] - 80), png=base64.b64encode(buf.getvalue()).decode(),
                    name=sp["subject"]["ho_ten"],
                    rows=_web_rows(lk["layout"], "Số CMND" if len(sp["subject"]["so_giay_to"]) == 9 else "Số CCCD",
                                   sp["doc"], sp["dob"]),
                    toggle="Hiện đầy đủ" if sp["mode"] == "default" else "Ẩn bớt thông tin")
                page.set_content(html)
                r = page.evaluate("(() => {const b = document.getElementById('qr').getBoundingClientRect();"
                                  "return [b.left, b.top, b.right, b.bottom];})()")
                shot = page.screenshot(type="jpeg", quality=quality, full_page=True)
                img = Image.open(io.BytesIO(shot)).convert("RGB")
                box = [int(v * lk["dpr"]) for v in r]
                out.append({**sp, "img": img, "boxes": [[box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2]]})
        finally:
            b.close()
    return out


_WARM: list[bool] = []


def _warm_up() -> None:
    """Start the OCR engines of this process once, outside the measured reads (a worker pays this once: it is a
    per-process cost, not a per-screenshot one)."""
    if _WARM:
        return
    import numpy as np
    from PIL import Image, ImageDraw

    from conformance.ocr import read_screen

    im = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(im).text((20, 40), "CCCD ******123456  **/**/1990", fill=0, font_size=28)
    read_screen(np.asarray(im))
    _WARM.append(True)


BEFORE = {"strategy": "page", "backend": "pytesseract", "find_unread": False}  # the reader as it was: the
# whole screen read by the tesseract command (one process per call), no unread-text check
AFTER = {"strategy": "auto", "backend": "auto", "find_unread": True}


def _run_one(item: dict[str, Any], cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    import numpy as np

    from conformance.ocr import engine, judge_display, read_screen

    cfg = cfg or AFTER
    gray = np.asarray(item["img"].convert("L"))
    boxes = item["boxes"] if item["boxes"] is not None else _exclude_boxes_from_decoders(gray)
    engine.BACKEND = cfg["backend"]
    _warm_up()
    t0 = time.process_time()
    r = read_screen(item["img"], exclude_boxes=boxes, strategy=cfg["strategy"], find_unread=cfg["find_unread"])
    t_read = time.process_time() - t0
    j = judge_display(r, item["subject"], item["mode"])
    own_cpu = time.process_time() - t0
    return {"label": item["label"], "group": item["group"], "mode": item["mode"], "want": item["want"],
            "got": {rid: j[rid]["status"] for rid in ("DISPLAY-001", "DISPLAY-002")},
            "found": {rid: j[rid].get("found") for rid in ("DISPLAY-001", "DISPLAY-002")},
            "tess_cpu_ms": r.timings_ms.get("tesseract_cpu", 0.0), "own_cpu_ms": own_cpu * 1000,
            "read_cpu_ms": t_read * 1000, "cpu_ms": t_read * 1000 + r.timings_ms.get("tesseract_cpu", 0.0),
            "strategy": r.strategy, "unread": len(r.unread), "error": r.error}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    conf = [(r, rid) for r in results if r["group"] == "conformant" for rid, w in r["want"].items() if w == "pass"]
    scr = [r for r in results if r["group"] == "conformant"]
    out["conformant_judgements"] = len(conf)
    for st in ("pass", "review", "fail"):
        out[f"conformant_{st}"] = sum(r["got"][rid] == st for r, rid in conf)
    out["conformant_screens_all_pass"] = sum(all(r["got"][rid] == "pass" for rid in r["want"]) for r in scr)
    out["conformant_screens"] = len(scr)
    dfx = [(r, rid) for r in results if r["group"] == "defect" for rid, w in r["want"].items() if w == "not_pass"]
    out["defect_judgements"] = len(dfx)
    for st in ("fail", "review", "pass"):
        out[f"defect_{st}"] = sum(r["got"][rid] == st for r, rid in dfx)
    side = [(r, rid) for r in results if r["group"] == "defect" for rid, w in r["want"].items() if w == "not_fail"]
    out["defect_side_fail"] = sum(r["got"][rid] == "fail" for r, rid in side)
    cpu = [r.get("cpu_ms", r["tess_cpu_ms"] + r["read_cpu_ms"]) for r in results]
    out["ocr_cpu_ms_mean"] = round(sum(cpu) / max(1, len(cpu)))  # read_screen: this process + Tesseract processes
    out["ocr_cpu_ms_max"] = round(max(cpu or [0]))
    out["whole_screen_reads"] = sum(r.get("strategy") == "page" for r in results)
    out["screens_with_unread_regions"] = sum(bool(r.get("unread")) for r in results)
    out["conformant_screens_with_unread_regions"] = sum(bool(r.get("unread")) for r in scr)
    ui = [(r, rid) for r in results if r["group"] == "ui" for rid in r["want"]]
    if ui:
        out["ui_judgements"] = len(ui)
        for st in ("pass", "review", "fail"):
            out[f"ui_{st}"] = sum(r["got"][rid] == st for r, rid in ui)
    ho = [(r, rid) for r in results if r["group"] == "hostile" for rid in r["want"]]
    if ho:
        out["hostile_judgements"] = len(ho)
        for st in ("fail", "review", "pass"):
            out[f"hostile_{st}"] = sum(r["got"][rid] == st for r, rid in ho)
    tess = [r["tess_cpu_ms"] for r in results]
    own = [r["own_cpu_ms"] for r in results]
    out["tesseract_cpu_ms_mean"] = round(sum(tess) / max(1, len(tess)))
    out["tesseract_cpu_ms_max"] = round(max(tess or [0]))
    out["python_cpu_ms_mean"] = round(sum(own) / max(1, len(own)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-random", type=int, default=24)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--only", default=None, help="substring of labels to run")
    ap.add_argument("--seed-base", type=int, default=1000, help="other seeds give a fresh (held-out) corpus")
    ap.add_argument("--no-fixtures", action="store_true", help="synthetic and reference-app screens only")
    ap.add_argument("--web", type=int, default=0, metavar="N",
                    help="browser-rendered app screens instead: N conformant + N/3 defect pages (headless Chromium)")
    ap.add_argument("--web-seed", type=int, default=7)
    ap.add_argument("--system-ui", action="store_true",
                    help="add conformant screens with system UI (group ui) and hostile screens (group hostile)")
    ap.add_argument("--compare", action="store_true",
                    help="run every screen twice, as the reader was (whole screen, tesseract command, no unread-text "
                         "check) and as it is, and print both summaries side by side")
    ap.add_argument("--web-hard", action="store_true",
                    help="bold serif/condensed/mono fonts at dpr >= 2.625, conformant pages in default mode only")
    a = ap.parse_args(argv)
    if a.web:
        t0 = time.perf_counter()
        hard = dict(fonts=["Liberation Serif", "DejaVu Serif", "Noto Serif", "DejaVu Sans Condensed", "DejaVu Sans Mono",
                            "Liberation Mono", "Noto Sans"], weights=[600, 700], dprs=[2.625, 3.0, 3.5],
                    default_only=True) if a.web_hard else {}
        items = render_web(web_specs(a.web, max(5, a.web // 3), a.web_seed, **hard))
        print(f"rendered {len(items)} pages in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    else:
        items = corpus(a.n_random, a.seed_base, not a.no_fixtures, a.system_ui)
    if a.only:
        items = [it for it in items if a.only in it["label"]]
    runs = [("before", BEFORE), ("after", AFTER)] if a.compare else [("after", AFTER)]
    summaries = {}
    for name, cfg in runs:
        if a.jobs > 1:
            from multiprocessing import get_context

            with get_context("fork").Pool(a.jobs) as pool:
                results = pool.starmap(_run_one, [(it, cfg) for it in items], chunksize=1)
        else:
            results = [_run_one(it, cfg) for it in items]
        summaries[name] = (summarise(results), results)
    if a.compare:
        (sb, rb), (sa, ra) = summaries["before"], summaries["after"]
        print(f"{'':40s} {'before':>10s} {'after':>10s}")
        for k in sa:
            print(f"{k:40s} {sb.get(k, ''):>10} {sa.get(k, ''):>10}")
        moved = [(x["label"], x["got"], y["got"]) for x, y in zip(rb, ra) if x["got"] != y["got"]]
        print(f"judgements that moved: {len(moved)}")
        for m in moved:
            print("   ", m)
        if a.out:
            Path(a.out).write_text(json.dumps({"before": {"summary": sb, "results": rb},
                                               "after": {"summary": sa, "results": ra}}, indent=1,
                                              ensure_ascii=False))
        return 0
    results = summaries["after"][1]
    for r in results:
        bad = any((w == "pass" and r["got"][rid] != "pass") or (w == "not_pass" and r["got"][rid] == "pass")
                  or (w == "not_fail" and r["got"][rid] == "fail") for rid, w in r["want"].items())
        print(f"{'!!' if bad else '  '} {r['label'][:70]:70s} {r['mode']:7s} "
              f"{r['got']['DISPLAY-001']:6s} {r['got']['DISPLAY-002']:6s} {r.get('cpu_ms', 0):5.0f}ms {r.get('strategy') or '':5s} "
              f"{r['found']['DISPLAY-001']!s:16s} {r['found']['DISPLAY-002']!s}")
    s = summarise(results)
    print(json.dumps(s, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps({"summary": s, "results": results}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
