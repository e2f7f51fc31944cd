"""GEN-*: one unified code per person, carrying the registered record (specs/SOURCES.md, general clauses)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.checks._common import no_payload
from conformance.checks.context import CampaignView, EvidenceView, PackageView, SubjectView
from conformance.checks.registry import check
from conformance.model import Observation, from_violation, met, no_evidence, not_applicable, not_met, unusable
from conformance.payload import build_payload, compare_to_record, parse_payload
from conformance.rules.fields import EXT_ITEM_NAMES, FIELD_NAMES, FIELDS, ext_label, field_requirement
from conformance.rules.masking import MASK_CHAR, MASKED_FIELD
from conformance.words import mode_vi

# The masking rule judges the form of the two masked fields as well as their PAYLOAD-* rule.
_MASKED_FIELD_RULES = {key: req for req, key in MASKED_FIELD.items()}
_MASKABLE = frozenset(_MASKED_FIELD_RULES)  # the fields the masking rule hides in the default mode
_RECORD_KEYS = FIELD_NAMES[:5] + tuple(f"ext.{k}" for k in EXT_ITEM_NAMES)


def form_rules(record_key: str) -> set[str]:
    """The rules that judge the form of a record field: a malformed field is reported by them, not again as a
    mismatch with the record (one defect, one failed requirement)."""
    rules = {r for r in (field_requirement(record_key), _MASKED_FIELD_RULES.get(record_key)) if r}
    if record_key.startswith("ext."):
        rules.add("PAYLOAD-007")
    return rules


@check("GEN-002", needs=("payload",))
def payload_matches_record(ev: EvidenceView) -> list[Observation]:
    """Decoded fields equal the subject's registered record (masked positions excepted)."""
    report = ev.payload
    if report is None:
        return [no_payload(ev, "GEN-002")]
    if ev.record is None:
        return [unusable("GEN-002", "the evidence names no known subject",
                         "bằng chứng không gắn với người dùng đã khai báo")]
    violated = {v.requirement for v in report.violations}
    if "PAYLOAD-001" in violated:
        return [no_evidence("GEN-002", "fields cannot be compared with the record: the payload structure is invalid "
                            "(see PAYLOAD-001)", "không so sánh được với dữ liệu đăng ký: cấu trúc nội dung mã không "
                            "hợp lệ (xem PAYLOAD-001)")]
    malformed = sorted(k for k in _RECORD_KEYS if form_rules(k) & violated)
    diffs = [v for v in compare_to_record(report.parsed, dict(ev.record)) if v.field not in malformed]
    if diffs:
        return [from_violation(v) for v in diffs]
    note_en = f" ({', '.join(malformed)} not compared: malformed, see the format rules)" if malformed else ""
    note_vi = f" (không so sánh {', '.join(malformed)}: sai định dạng, xem các quy tắc định dạng)" if malformed else ""
    return [met("GEN-002", f"all decoded fields match the registered record{note_en}",
                f"mọi trường giải mã trùng với dữ liệu đăng ký{note_vi}", measured={"not_compared": malformed})]




@check("GEN-001", scope="subject", needs=("payload",))
def one_code_per_person(sub: SubjectView) -> list[Observation]:
    """Every capture of a subject in one display mode carries the same payload, and one QID throughout."""
    decoded = [(e, e.payload_text) for e in sub.items if e.error is None and e.payload_text is not None]
    if not decoded:
        return [no_evidence("GEN-001", f"subject {sub.subject_id}: no decoded capture to compare",
                            f"người dùng {sub.subject_id}: không có ảnh/nội dung giải mã được để so sánh")]
    out: list[Observation] = []
    for mode in ("default", "full"):
        texts = {t for e, t in decoded if e.mode == mode}
        files = [e.file for e, _ in decoded if e.mode == mode]
        if len(texts) > 1:
            out.append(not_met("GEN-001",
                               f"subject {sub.subject_id}, {mode} mode: {len(texts)} different payloads across "
                               f"{len(files)} captures",
                               f"người dùng {sub.subject_id}, chế độ {mode_vi(mode)}: {len(texts)} nội dung khác nhau "
                               f"trên {len(files)} lần chụp",
                               measured={"mode": mode, "captures": files, "distinct_payloads": len(texts)}))
    qids = {p.qid for p in (parse_payload(t) for _, t in decoded) if p.field_count == 6}
    if len(qids) > 1:
        out.append(not_met("GEN-001", f"subject {sub.subject_id}: captures carry {len(qids)} different QIDs",
                           f"người dùng {sub.subject_id}: các lần chụp mang {len(qids)} QID khác nhau",
                           measured={"distinct_qids": len(qids)}))
    if out:
        return out
    counts = {m: sum(1 for e, _ in decoded if e.mode == m) for m in ("default", "full")}
    return [met("GEN-001",
                f"subject {sub.subject_id}: one payload per mode ({counts['default']} default, {counts['full']} full "
                "captures)",
                f"người dùng {sub.subject_id}: mỗi chế độ một nội dung ({counts['default']} ảnh mặc định, "
                f"{counts['full']} ảnh đầy đủ)", measured=counts)]


@check("GEN-001", scope="subject", needs=("payload",))
def recording_one_code_per_mode(sub: SubjectView) -> list[Observation]:
    """Screen recording: every frame read in one display mode shows the same payload."""
    recs = {v.index: v for v in sub.items if v.kind == "recording" and v.error is None and "recording" in v.detail}
    if not recs:
        return [not_applicable("GEN-001", f"subject {sub.subject_id}: no usable screen recording",
                               f"người dùng {sub.subject_id}: không có video quay màn hình dùng được")]
    out: list[Observation] = []
    for v in recs.values():
        modes = v.detail["recording"]["payloads"]["modes"]
        for mode in ("default", "full"):
            info = modes.get(mode) or {}
            if info.get("count", 0) > 1:
                frames = [(p["frame"], p["time"]) for p in info["payloads"]]
                out.append(not_met("GEN-001", f"subject {sub.subject_id}, {mode} mode: the recording shows "
                                   f"{info['count']} different payloads (first seen at frames "
                                   f"{', '.join(f'{f} ({t} s)' for f, t in frames)})",
                                   f"người dùng {sub.subject_id}, chế độ {mode_vi(mode)}: video có {info['count']} "
                                   "nội dung mã khác nhau (lần đầu ở các khung hình "
                                   f"{', '.join(f'{f} (giây {t})' for f, t in frames)})",
                                   evidence=v.file, item=v.index, measured={"mode": mode, "frames": [f for f, _ in frames]}))
        if not any(o.evidence == v.file for o in out):
            counts = {m: (modes.get(m) or {}).get("count", 0) for m in ("default", "full")}
            out.append(met("GEN-001", f"subject {sub.subject_id}: the recording shows one payload per mode read "
                           f"({counts['default']} in default, {counts['full']} in full mode)",
                           f"người dùng {sub.subject_id}: video có một nội dung mã cho mỗi chế độ đọc được "
                           f"({counts['default']} ở chế độ mặc định, {counts['full']} ở chế độ đầy đủ)",
                           evidence=v.file, item=v.index, measured=counts))
    return out


# ---------------------------------------------------------------------------------------------- campaigns
# GEN-003 compares several candidate apps assessed for the same test accounts (conformance/campaign/). Its record of
# a person is the campaign's; a package that declares another record for the same person is reported on GEN-002.

_FIELD_LABEL = {f.key: (f.spec, f.spec) for f in FIELDS}


def _record_differences(declared: Mapping[str, Any], used: Mapping[str, Any]) -> list[str]:
    """Record keys (`qid`, `ext.bhyt`, ...) whose declared value differs from the one used."""
    keys = sorted(({k for k in declared if k not in ("id", "ext")} | {k for k in used if k not in ("id", "ext")}),
                  key=lambda k: (FIELD_NAMES.index(k) if k in FIELD_NAMES else len(FIELD_NAMES), k))
    out = [k for k in keys if declared.get(k) != used.get(k)]
    d_raw, u_raw = declared.get("ext"), used.get("ext")
    d_ext: Mapping[str, Any] = d_raw if isinstance(d_raw, Mapping) else {}
    u_ext: Mapping[str, Any] = u_raw if isinstance(u_raw, Mapping) else {}
    ext_keys = sorted(set(d_ext) | set(u_ext),
                      key=lambda k: (EXT_ITEM_NAMES.index(k) if k in EXT_ITEM_NAMES else len(EXT_ITEM_NAMES), k))
    out += [f"ext.{k}" for k in ext_keys if d_ext.get(k) != u_ext.get(k)]
    return out


@check("GEN-002", scope="package")
def declared_records_match(pkg: PackageView) -> list[Observation]:
    """The records candidate.json declares are those the assessment compares with (in a campaign: the campaign's)."""
    declared = {s.get("id"): s for s in pkg.manifest.get("subjects") or [] if isinstance(s, Mapping)}
    out = []
    for sid, used in pkg.subjects.items():
        mine = declared.get(sid)
        if mine is None or mine is used:
            continue
        for key in _record_differences(mine, used):
            out.append(not_met(
                "GEN-002",
                f"candidate.json declares subject {sid} with another {key} than the campaign's record (the test "
                "account as registered on the national platform); the campaign's record is the one compared",
                f"candidate.json khai người dùng {sid} với {key} khác với dữ liệu của đợt đánh giá (tài khoản thử "
                "nghiệm như đã đăng ký trên nền tảng quốc gia); dữ liệu của đợt đánh giá được dùng để so sánh",
                remark="declared-record-differs", field=key, measured={"subject": sid}))
    return out


@check("GEN-003", scope="package")
def same_code_needs_a_campaign(pkg: PackageView) -> Observation:
    """GEN-003 compares several apps: not applicable to one package (see conformance/campaign/)."""
    return not_applicable(
        "GEN-003", "GEN-003 compares the codes several apps show the same people: it is judged in a campaign "
        "(vnqr-conformance campaign), not on a single package",
        "GEN-003 so sánh mã QR mà nhiều ứng dụng hiển thị cho cùng những người dùng: yêu cầu này được đánh giá trong "
        "một đợt đánh giá (vnqr-conformance campaign), không đánh giá trên một gói bằng chứng đơn lẻ")


def _masked_equal(a: str, b: str) -> bool:
    """Equal but for masked positions: the same length, and every position where neither shows the mask character
    holds the same character (the masking rule's mask character, conformance/rules/masking.py)."""
    return a == b or (len(a) == len(b) and all(x == y or MASK_CHAR in (x, y) for x, y in zip(a, b)))


def _payload_fields(text: str) -> dict[str, str] | None:
    """Field key -> value of a six-field payload (EXT items by position, an absent item being empty); None when the
    payload does not have six fields."""
    p = parse_payload(text)
    if p.field_count != 6:
        return None
    out = {k: str(getattr(p, k)) for k in FIELD_NAMES[:5]}
    for i, item in enumerate(p.ext_items, start=1):
        out[_ext_key(i)] = item
    return out


def _ext_key(position: int) -> str:
    return f"ext.{EXT_ITEM_NAMES[position - 1]}" if position <= len(EXT_ITEM_NAMES) else f"ext.{position}"


def _field_label(key: str) -> tuple[str, str]:
    if key == "payload":
        return "the payload", "nội dung mã"
    if key.startswith("ext."):
        tail = key[4:]
        pos = EXT_ITEM_NAMES.index(tail) + 1 if tail in EXT_ITEM_NAMES else int(tail)
        return ext_label(pos)
    return _FIELD_LABEL[key]


def _names(cands: list[str]) -> str:
    return ", ".join(f"'{c}'" for c in cands)


@check("GEN-003", scope="campaign", needs=("payload",))
def same_code_in_every_app(person: CampaignView) -> list[Observation]:
    """Every app shows a person the same payload per mode (masked positions excepted), with the record's QID."""
    sid, rec = person.subject_id, person.record
    who_en = f"person {sid} ({rec.get('ho_ten', '')})"
    who_vi = f"người dùng {sid} ({rec.get('ho_ten', '')})"
    masks_allowed = person.thresholds.masking_in_default_mode != "forbidden"
    truth = _payload_fields(build_payload(dict(rec))) or {}
    shown = {c: {m: person.payloads(c, m) for m in ("default", "full")} for c in person.candidates}
    shown_by = [c for c in person.candidates if any(shown[c].values())]
    out: list[Observation] = []
    compared: dict[str, list[str]] = {}
    for mode in ("default", "full"):
        entries = [(c, t) for c in person.candidates for t in shown[c][mode]]
        cands = list(dict.fromkeys(c for c, _ in entries))
        if len(cands) < 2:
            continue
        compared[mode] = cands
        out.extend(_compare_mode(person, mode, entries, truth, masks_allowed and mode == "default", who_en, who_vi))
    if out:
        return out
    if not compared:
        if len(shown_by) <= 1:
            en = f"shown by only one app ({_names(shown_by)})" if shown_by else "shown decoded by no app"
            vi = f"chỉ một ứng dụng hiển thị ({_names(shown_by)})" if shown_by else "không ứng dụng nào hiển thị mã " \
                "giải mã được"
        else:
            en = "no display mode in which two apps show the person (" + "; ".join(
                f"'{c}': {', '.join(m for m in ('default', 'full') if shown[c][m])}" for c in shown_by) + ")"
            vi = "không có chế độ hiển thị nào mà hai ứng dụng cùng hiển thị người này (" + "; ".join(
                f"'{c}': {', '.join(mode_vi(m) for m in ('default', 'full') if shown[c][m])}" for c in shown_by) + ")"
        return [no_evidence("GEN-003", f"{who_en}: {en}; nothing to compare", f"{who_vi}: {vi}; không có gì để so sánh",
                            measured={"subject": sid, "shown_by": shown_by})]
    everyone = [c for c in person.candidates if any(c in v for v in compared.values())]
    per_mode_en = "; ".join(f"{m} mode: {_names(v)}" for m, v in compared.items())
    per_mode_vi = "; ".join(f"chế độ {mode_vi(m)}: {_names(v)}" for m, v in compared.items())
    return [met("GEN-003", f"{who_en}: the apps show the same code with the campaign record's QID ({per_mode_en})",
                f"{who_vi}: các ứng dụng hiển thị cùng một mã với QID trong dữ liệu của đợt đánh giá ({per_mode_vi})",
                measured={"subject": sid, "compared": everyone, "modes": compared, "shown_by": shown_by})]


def _compare_mode(person: CampaignView, mode: str, entries: list[tuple[str, str]], truth: Mapping[str, str],
                  masked_ok: bool, who_en: str, who_vi: str) -> list[Observation]:
    """The GEN-003 differences of one person in one mode: one observation per differing field."""
    sid = person.subject_id
    all_cands = list(dict.fromkeys(c for c, _ in entries))
    parsed = [(c, _payload_fields(t), t) for c, t in entries]
    if any(f is None for _, f, _ in parsed):
        table: list[tuple[str, list[tuple[str, str]], bool]] = [("payload", [(c, t) for c, _, t in parsed], False)]
    else:
        keys = list(dict.fromkeys(k for _, f, _ in parsed for k in (f or {})))
        table = [(k, [(c, (f or {}).get(k, "")) for c, f, _ in parsed], masked_ok and k in _MASKABLE) for k in keys]
    out = []
    mode_en, mode_label_vi = f"{mode} mode", f"chế độ {mode_vi(mode)}"
    for key, values, maskable in table:

        def same(a: str, b: str, m: bool = maskable) -> bool:
            return _masked_equal(a, b) if m else a == b

        if key == "qid":
            ref: str | None = str(person.record.get("qid", ""))
        else:
            ref = truth.get(key) if key != "payload" else None
        # groups of equal values (masked positions excepted), the record's value first when an app shows it
        groups: list[tuple[str, list[str]]] = [(ref, [])] if ref is not None else []
        where: dict[str, set[int]] = {}
        for c, v in values:
            i = next((i for i, g in enumerate(groups) if same(v, g[0])), None)
            if i is None:
                groups.append((v, []))
                i = len(groups) - 1
            groups[i][1].append(c)
            where.setdefault(c, set()).add(i)
        used = [i for i, g in enumerate(groups) if g[1]]
        if key == "qid":
            odd = [c for c in all_cands if where[c] != {0}]  # every app must show the record's QID
        elif len(used) <= 1:
            continue
        elif ref is not None and groups[0][1]:
            odd = [c for c in all_cands if where[c] != {0}]
        else:  # no app shows the record's value: the odd ones are those outside a strict majority, if any
            sizes = sorted((len(set(groups[i][1])) for i in used), reverse=True)
            top = max(used, key=lambda i: len(set(groups[i][1])))
            odd = [c for c in all_cands if where[c] != {top}] if sizes[0] > sizes[1] else list(all_cands)
        if not odd:
            continue
        good = [c for c in all_cands if c not in odd]
        base_i = 0 if ref is not None and (groups[0][1] or key == "qid") else (
            next(i for i in used if set(groups[i][1]) >= set(good)) if good else used[0])
        base = groups[base_i][0]
        found = next((v for c, v in values if c in odd and not same(v, base)), values[0][1])
        measured = {"subject": sid, "mode": mode, "candidates": odd, "agreeing": good, "compared": all_cands}
        s_odd = "s" if len(odd) == 1 else ""
        s_good = "s" if len(good) == 1 else ""
        if key == "qid":
            en = (f"{who_en}, {mode_en}: {_names(odd)} show{s_odd} a QID other than the campaign record's (the code "
                  "issued by the national platform)" + (f"; {_names(good)} show{s_good} the record's QID" if good else ""))
            vi = (f"{who_vi}, {mode_label_vi}: {_names(odd)} hiển thị QID khác với QID trong dữ liệu của đợt đánh giá (mã do "
                  "nền tảng quốc gia cấp)" + (f"; {_names(good)} hiển thị đúng QID đó" if good else ""))
        else:
            label_en, label_vi = _field_label(key)
            en = (f"{who_en}, {mode_en}: {label_en} differs between the apps: {_names(odd)} "
                  + (f"show{s_odd} another value than {_names(good)}" if good else "show different values"))
            vi = (f"{who_vi}, {mode_label_vi}: {label_vi} khác nhau giữa các ứng dụng: {_names(odd)} "
                  + (f"hiển thị giá trị khác với {_names(good)}" if good else "hiển thị các giá trị khác nhau"))
        out.append(not_met("GEN-003", en, vi, field=key, expected=base, found=found, measured=measured))
    return out
