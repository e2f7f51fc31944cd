"""Property tests: grammar-generated payloads pass; each single-rule mutation fails exactly that rule; no input raises.

Valid records are built from the v1.1 grammar (specs/SOURCES.md field table) with the decisions documented in
conformance/payload/validate.py. All generated people are fictitious.
"""
from __future__ import annotations

import datetime as dt
import json
import string

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance.payload import build_payload, compare_to_record, parse_payload, validate_payload
from conformance.specs import load_catalogue

TODAY = dt.date(2024, 6, 30)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
MANY = settings(max_examples=150, **SETTINGS)
SOME = settings(max_examples=60, **SETTINGS)

UPPER = string.ascii_uppercase
DIGITS = string.digits
VCHAR = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "|<")  # QID: grammar 1*VCHAR-no-pipe
# EXT item text: v1.1 says nothing of its charset; excluded here are the characters our PAYLOAD-007 heuristics read
# as separators when no '<' is present (',' ';' '>') and as escapes ('&', '%').
ITEM_CHARS = "".join(ch for ch in VCHAR if ch not in ",;>&%")


def digits(n: int):
    return st.text(DIGITS, min_size=n, max_size=n)


cccd = digits(12)
cmnd = digits(9)
# ICAO 9303 document numbers: at most 9 characters A-Z/0-9 with a letter (Vietnam: a letter and 7 digits)
passport = st.builds(lambda a, b: a + b, st.sampled_from(UPPER), digits(7)) | st.text(UPPER + DIGITS, min_size=6,
                                                                                      max_size=9).filter(
    lambda s: any(c.isalpha() for c in s))
name = st.lists(st.text(UPPER, min_size=1, max_size=10), min_size=1, max_size=6).map(" ".join)
dob = st.dates(dt.date(1900, 1, 1), TODAY).map(dt.date.isoformat)
qid = st.text(VCHAR, min_size=1, max_size=40) | digits(18)
proxy_qid = st.text(ITEM_CHARS, min_size=1, max_size=30) | digits(18)
bhyt = st.builds(lambda a, b, c, d: a + b + c + d, st.text(UPPER, min_size=2, max_size=2),
                 st.sampled_from("12345"), digits(2), digits(10)) | digits(10)
phone = digits(10)
signature = st.text(string.ascii_letters + DIGITS + "+/=", min_size=1, max_size=120)
other = st.lists(st.text(ITEM_CHARS, min_size=1, max_size=12), min_size=1, max_size=3).map(" ".join)


@st.composite
def records(draw):
    loai = draw(st.sampled_from(["0", "1"]))
    doc = draw(cccd | cmnd | passport)
    if loai == "1" and draw(st.booleans()):
        doc = ""
    items = [
        draw(proxy_qid) if loai == "1" else "",  # the proxy QID is present when declared by proxy (its SHOULD)
        draw(st.sampled_from(["", "0", "1", "2"])),
        draw(st.just("") | bhyt),
        draw(st.just("") | phone),
        draw(st.just("") | signature),
    ] + draw(st.lists(st.just("") | other, max_size=3))
    n = draw(st.integers(1 if loai == "1" else 0, len(items)))
    return {"so_giay_to": doc, "ho_ten": draw(name), "ngay_sinh": draw(dob), "loai_dinh_danh": loai,
            "qid": draw(qid), "items": items[:n]}


def mask_doc(doc: str) -> str:
    return "*" * 6 + doc[6:] if doc else doc


def to_fields(rec: dict, masked: bool) -> list[str]:
    doc, birth = rec["so_giay_to"], rec["ngay_sinh"]
    if masked:
        doc, birth = mask_doc(doc), birth[:4] + "-**-**"
    return [doc, rec["ho_ten"], birth, rec["loai_dinh_danh"], rec["qid"], "<".join(rec["items"])]


@st.composite
def valid_cases(draw, masked_only: bool | None = None):
    """(record, fields, mode, masking) for a conformant payload."""
    rec = draw(records())
    mode = draw(st.sampled_from(["full", "default", None]))
    if mode == "full":
        masked, masking = False, "allowed"
    else:
        masked = draw(st.booleans()) if masked_only is None else masked_only
        masking = draw(st.sampled_from(["allowed", "required" if masked else "forbidden"])) if mode else "allowed"
    return rec, to_fields(rec, masked), mode, masking


def check(fields: list[str], mode, masking="allowed"):
    return validate_payload("|".join(fields), mode=mode, masking=masking, today=TODAY)


@MANY
@given(valid_cases())
def test_grammar_payloads_are_accepted(case):
    rec, fields, mode, masking = case
    r = check(fields, mode, masking)
    assert r.violations == [], [v.message_en for v in r.violations]
    p = r.parsed
    assert p.fields == fields and p.ext_items == ([] if fields[5] == "" else fields[5].split("<"))
    assert all(v.requirement == "PAYLOAD-012" for v in r.review)
    assert all(v.requirement == "PAYLOAD-007" for v in r.notes)


@SOME
@given(valid_cases())
def test_generated_payload_matches_its_record(case):
    rec, fields, mode, masking = case
    ext = dict(zip(("proxy_qid", "gender", "bhyt", "phone"), rec["items"]))
    record = {k: rec[k] for k in ("so_giay_to", "ho_ten", "ngay_sinh", "loai_dinh_danh", "qid")} | {"ext": ext}
    assert compare_to_record(parse_payload("|".join(fields)), record) == []


@SOME
@given(records(), st.booleans())
def test_record_builder_output_is_accepted(rec, masked):
    """conformance.payload.build_payload (used by fixture generators) produces payloads the validator accepts."""
    items = rec["items"] + [""] * (5 - len(rec["items"]))
    record = {k: rec[k] for k in ("so_giay_to", "ho_ten", "ngay_sinh", "qid")}
    record["loai_dinh_danh"] = int(rec["loai_dinh_danh"])
    record["ext"] = dict(zip(("proxy_qid", "gender", "bhyt", "phone", "signature"), items[:5]))
    payload = build_payload(record, masked=masked)
    assert validate_payload(payload, mode="default" if masked else "full", today=TODAY).ok
    assert compare_to_record(parse_payload(payload), record) == []


# ------------------------------------------------------------------------------------------- mutations
# Each mutator takes (draw, fields, mode) and returns (new fields, mode, masking) breaking exactly one rule,
# or None when it does not apply to this payload (then hypothesis discards the example).

def _set(fields, i, value):
    f = list(fields)
    f[i] = value
    return f


def _ext_items(fields, n):
    items = fields[5].split("<") if fields[5] else []
    return items + [""] * (n - len(items))


def m_payload_001(draw, fields, mode):
    kind = draw(st.sampled_from(["extra", "drop_ext", "pipe_in_name", "pipe_in_qid"]))
    if kind == "extra":
        return fields + [draw(st.text(ITEM_CHARS, max_size=10))]
    if kind == "drop_ext":
        return fields[:5]
    if kind == "pipe_in_name":
        return _set(fields, 1, fields[1].replace(" ", "|", 1) if " " in fields[1] else fields[1] + "|X")
    return _set(fields, 4, fields[4][:1] + "|" + fields[4][1:])


def m_payload_002(draw, fields, mode):
    if fields[3] == "0" and draw(st.booleans()):
        return _set(fields, 0, "")
    bad = draw(st.integers(1, 25).filter(lambda n: n not in (9, 12)).flatmap(digits)
               | st.text(string.ascii_lowercase + DIGITS, min_size=6, max_size=12).filter(
                   lambda s: any(c.islower() for c in s))
               | st.builds(lambda a, b: a + b, digits(6), st.sampled_from([" ", "-", ".", "\t", "/"]) ).map(
                   lambda s: s + "123456")
               | st.text(UPPER + DIGITS, min_size=21, max_size=30))
    return _set(fields, 0, bad)


def m_payload_003(draw, fields, mode):
    n = fields[1]
    kind = draw(st.sampled_from(["lower", "diacritic", "double", "lead", "trail", "digit", "empty", "tab"]))
    i = draw(st.integers(0, len(n) - 1))
    if kind == "lower":
        j = next((k for k in range(i, len(n)) if n[k] != " "), None)
        j = j if j is not None else next(k for k in range(len(n)) if n[k] != " ")
        return _set(fields, 1, n[:j] + n[j].lower() + n[j + 1:])
    if kind == "diacritic":
        return _set(fields, 1, n[:i] + draw(st.sampled_from("ĐÂĂÊÔƠƯÁÀẢÃẠẦỆỮđâé")) + n[i + 1:])
    if kind == "double":
        return _set(fields, 1, n + "  X" if " " not in n else n.replace(" ", "  ", 1))
    if kind == "lead":
        return _set(fields, 1, " " + n)
    if kind == "trail":
        return _set(fields, 1, n + " ")
    if kind == "digit":
        return _set(fields, 1, n[:i] + draw(st.sampled_from(DIGITS + "-'.,")) + n[i:])
    if kind == "tab":
        return _set(fields, 1, n + "\tX")
    return _set(fields, 1, "")


def m_payload_004(draw, fields, mode):
    d = dt.date.fromisoformat(draw(dob))
    kind = draw(st.sampled_from(["dmy", "slash", "nopad", "month13", "day32", "feb30", "future", "empty", "compact"]))
    y, m, dd = f"{d.year:04d}", f"{d.month:02d}", f"{d.day:02d}"
    value = {
        "dmy": f"{dd}-{m}-{y}", "slash": f"{y}/{m}/{dd}", "nopad": f"{y}-{d.month}-{d.day}-",
        "month13": f"{y}-13-{dd}", "day32": f"{y}-{m}-32", "feb30": f"{y}-02-30",
        "future": (TODAY + dt.timedelta(days=draw(st.integers(1, 40000)))).isoformat(), "empty": "",
        "compact": f"{y}{m}{dd}",
    }[kind]
    return _set(fields, 2, value)


def m_payload_005(draw, fields, mode):
    bad = draw(st.text(VCHAR + " ", max_size=4).filter(lambda s: s not in ("0", "1")))
    return _set(fields, 3, bad)


def m_payload_006(draw, fields, mode):
    q = fields[4]
    kind = draw(st.sampled_from(["empty", "lt", "space", "pad", "ctl"]))
    i = draw(st.integers(0, len(q)))
    if kind == "empty":
        return _set(fields, 4, "")
    if kind == "lt":
        return _set(fields, 4, q[:i] + "<" + q[i:])
    if kind == "space":
        return _set(fields, 4, q[:i] + draw(st.sampled_from([" ", "\u00a0", "\u3000"])) + q[i:])
    if kind == "pad":
        return _set(fields, 4, draw(st.sampled_from([" " + q, q + " ", q + "\t"])))
    return _set(fields, 4, q[:i] + draw(st.sampled_from(["\x00", "\x1b", "\x7f", "\u200b"])) + q[i:])


def m_payload_007(draw, fields, mode):
    ext = fields[5]
    kind = draw(st.sampled_from(["newline", "ctl_end", "pad", "comma", "escape"]))
    if kind == "newline":
        return _set(fields, 5, ext + draw(st.sampled_from(["\n", "\r\n", "\r", "\u2028"])))
    if kind == "ctl_end":
        return _set(fields, 5, ext + draw(st.sampled_from(["\x00", "\x1f", "\ufeff"])))
    if kind == "pad":
        items = ext.split("<") if ext else [""]
        i = draw(st.integers(0, len(items) - 1))
        items[i] = draw(st.sampled_from([" " + items[i], items[i] + " ", "\t" + items[i]]))
        return _set(fields, 5, "<".join(items))
    if "<" not in ext:
        return None
    if kind == "comma":
        return _set(fields, 5, ext.replace("<", draw(st.sampled_from([",", ";"]))))
    return _set(fields, 5, ext.replace("<", draw(st.sampled_from(["&lt;", "&#60;", "%3C"]))))


def m_payload_008(draw, fields, mode):
    items = _ext_items(fields, 1)
    if fields[3] == "0":
        items[0] = draw(proxy_qid)
    elif items[0]:
        items[0] = items[0] + " " + draw(st.text(ITEM_CHARS, min_size=1, max_size=5))
    else:
        return None
    return _set(fields, 5, "<".join(items))


def _ext_item_mutation(draw, fields, index, bad):
    items = _ext_items(fields, index + 1)
    items[index] = draw(bad)
    return _set(fields, 5, "<".join(items))


def m_payload_009(draw, fields, mode):
    bad = st.text(ITEM_CHARS, min_size=1, max_size=4).filter(lambda s: s not in ("0", "1", "2"))
    return _ext_item_mutation(draw, fields, 1, bad)


def m_payload_010(draw, fields, mode):
    star_free = ITEM_CHARS.replace("*", "")
    bad = (st.text(star_free, min_size=1, max_size=20)
           | st.builds(lambda a, b, c: a + b + c, st.text(UPPER, min_size=2, max_size=2), st.sampled_from("0678"),
                       digits(12))
           | digits(14) | digits(11)
           | st.builds(lambda a, b: a + b, st.text(string.ascii_lowercase, min_size=2, max_size=2), digits(13)))
    bad = bad.filter(lambda s: not (len(s) == 10 and s.isdigit())
                     and not (len(s) == 15 and s[:2].isupper() and s[:2].isalpha() and s[:2].isascii()
                              and s[2] in "12345" and s[3:].isdigit() and s[3:].isascii()))
    return _ext_item_mutation(draw, fields, 2, bad)


def m_payload_011(draw, fields, mode):
    bad = (st.integers(1, 15).filter(lambda n: n != 10).flatmap(digits)
           | st.builds(lambda a, b: a + b, st.sampled_from(["+84", "84", "(0)", "0-"]), digits(9))
           | st.text(ITEM_CHARS.replace("*", ""), min_size=1, max_size=12).filter(
               lambda s: not (len(s) == 10 and s.isdigit() and s.isascii())))
    return _ext_item_mutation(draw, fields, 3, bad)


def m_display_001(draw, fields, mode):
    doc = fields[0]
    if not doc:
        return None
    if doc.startswith("******"):
        doc = doc[6:]
        n = len(doc) + 6
    else:
        n = len(doc)
    full = "0" * 6 + doc if len(doc) < n else doc  # any underlying characters: only the visible part matters
    kind = draw(st.sampled_from(["fewer", "more", "at_end", "star_in_suffix", "full_mode"]))
    if kind == "full_mode":  # exact mask, but in full mode (the date of birth shown whole)
        return _set(_set(fields, 2, draw(dob)), 0, "******" + full[6:]), "full", "allowed"
    if kind == "fewer":
        k = draw(st.integers(1, 5))
        bad = "*" * k + full[k:]
    elif kind == "more":
        if n <= 6:
            return None
        k = draw(st.integers(7, n))
        bad = "*" * k + full[k:]
    elif kind == "at_end":
        bad = full[:-6] + "******" if n > 6 else None
    else:
        if n <= 6:
            return None
        i = draw(st.integers(6, n - 1))
        bad = "******" + full[6:i] + "*" + full[i + 1:]
    if bad is None:
        return None
    return _set(fields, 0, bad), draw(st.sampled_from(["default", None])), "allowed"


def m_display_002(draw, fields, mode):
    y = fields[2][:4]
    real = draw(dob)
    kind = draw(st.sampled_from(["year", "day_only", "month_only", "no_hyphens", "short", "full_mode", "extra"]))
    if kind == "full_mode":  # exact mask, but in full mode (the document number shown whole)
        f = _set(fields, 2, y + "-**-**")
        return (_set(f, 0, draw(cccd)) if f[0] else f), "full", "allowed"
    value = {"year": "****" + real[4:], "day_only": real[:8] + "**", "month_only": real[:5] + "**" + real[7:],
             "no_hyphens": y + "******", "short": y + "-*-*", "extra": y + "-**-**-**"}[kind]
    return _set(fields, 2, value), draw(st.sampled_from(["default", None])), "allowed"


MUTATORS = {
    "PAYLOAD-001": m_payload_001, "PAYLOAD-002": m_payload_002, "PAYLOAD-003": m_payload_003,
    "PAYLOAD-004": m_payload_004, "PAYLOAD-005": m_payload_005, "PAYLOAD-006": m_payload_006,
    "PAYLOAD-007": m_payload_007, "PAYLOAD-008": m_payload_008, "PAYLOAD-009": m_payload_009,
    "PAYLOAD-010": m_payload_010, "PAYLOAD-011": m_payload_011, "DISPLAY-001": m_display_001,
    "DISPLAY-002": m_display_002,
}


def _run_mutation(rule, case, data):
    rec, fields, mode, masking = case
    if masking != "allowed":  # keep the profile neutral: only the mutated rule may break
        masking = "allowed"
    out = MUTATORS[rule](data.draw, fields, mode)
    assume(out is not None)
    if isinstance(out, tuple):
        fields2, mode2, masking2 = out
    else:
        fields2, mode2, masking2 = out, mode, masking
    r = check(fields2, mode2, masking2)
    assert r.requirements_violated() == {rule}, (rule, "|".join(fields2), [v.message_en for v in r.violations])
    for v in r.violations:
        assert v.message_en and v.message_vi


def _mutation_test(rule):
    @settings(max_examples=60, **SETTINGS)
    @given(case=valid_cases(masked_only=True if rule in ("DISPLAY-001", "DISPLAY-002") else None), data=st.data())
    def test(case, data):
        _run_mutation(rule, case, data)
    test.__name__ = f"test_single_mutation_{rule.replace('-', '_').lower()}"
    return test


for _rule in MUTATORS:
    globals()[f"test_single_mutation_{_rule.replace('-', '_').lower()}"] = _mutation_test(_rule)


# ------------------------------------------------------------------------------------------- robustness

@MANY
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_never_raises_on_arbitrary_input(data):
    r = validate_payload(data, mode=None)
    known = set(load_catalogue())
    assert all(v.requirement in known and v.message_en and v.message_vi for v in r.violations + r.review + r.notes)
    json.dumps(r.to_dict())


@SOME
@given(st.lists(st.text(max_size=30), min_size=0, max_size=12), st.sampled_from(["full", "default", None]),
       st.sampled_from(["allowed", "required", "forbidden"]))
def test_never_raises_on_arbitrary_fields(fields, mode, masking):
    raw = "|".join(fields)
    r = validate_payload(raw, mode=mode, masking=masking, today=TODAY)
    if raw.count("|") != 5:  # a generated field may itself hold '|': the payload's own field count decides
        assert r.requirements_violated() == {"PAYLOAD-001"}  # field boundaries unknown: nothing else is judged
    for v in r.violations + r.review:
        assert v.position is None or 0 <= v.position <= len(r.parsed.raw)


@settings(max_examples=10, **SETTINGS)
@given(st.integers(7, 10_001), st.binary(min_size=0, max_size=8))
def test_many_fields_and_huge_input(n, chunk):
    r = validate_payload(b"|".join([chunk] * n))
    assert "PAYLOAD-001" in r.requirements_violated()
    big = chunk * 20_000 + b"|" * 5
    r = validate_payload(big, max_bytes=4096)
    if len(big) > 4096:
        assert r.requirements_violated() == {"PAYLOAD-001"} and len(r.parsed.raw) <= 4096
    else:  # only when chunk is empty: five separators and nothing else
        assert r.parsed.field_count == 6 and "PAYLOAD-001" not in r.requirements_violated()
