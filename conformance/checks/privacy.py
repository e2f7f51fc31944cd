"""PRIV-001 (SHOULD): data handling observed during live capture (capture/log.json).

Regulation 733/QC-BCĐ itself was not found (specs/SOURCES.md), so these are common web-practice readings of
"transport encryption, purpose limitation, no needless exposure", each its own observation (the requirement is a
SHOULD, so a part not met is a warning):
  transport  personal data only over HTTPS, except on loopback (a local test rig)
  no-store   responses carrying personal data send Cache-Control: no-store
  url        no document number, date of birth (any format), phone or BHYT number in any requested URL
  auth       the interface refuses requests without / with a wrong token (401/403)
  errors     a malformed subject id gets a clean 4xx, with no stack trace and no personal data in the body
Every finding's `measured` names the exchange that shows it (method, masked url, status, header).
"""
from __future__ import annotations

from typing import Any

from conformance.capture.netguard import is_loopback
from conformance.checks.context import PackageView
from conformance.checks.registry import check
from conformance.model import Observation, met, no_evidence, not_applicable, not_met, unusable
from conformance.rules.fields import URL_FORBIDDEN_KEYS

REQ = "PRIV-001"
MAX_LISTED = 5


def _ex_measured(e: dict[str, Any], header: str | None = None) -> dict[str, Any]:
    m = {"method": e.get("method"), "url": e.get("url"), "status": e.get("status")}
    if header:
        m["header"] = f"{header}: {(e.get('headers') or {}).get(header.lower())}"
    return m


def _entries(log: dict[str, Any]) -> list[dict[str, Any]]:
    """Every observed HTTP exchange: interface exchanges and browser network entries."""
    return [e for e in log["exchanges"] + log["network"] if isinstance(e, dict)]


def judge_transport(log: dict[str, Any]) -> Observation:
    pd = [e for e in _entries(log) if e.get("personal_data") and e.get("status") is not None]
    if not pd:
        return no_evidence(REQ, "transport: no response carrying personal data was observed",
                       "mã hoá đường truyền: không thấy phản hồi nào chứa dữ liệu cá nhân")
    plain = [e for e in pd if str(e.get("url", "")).lower().startswith("http://") and not is_loopback(str(e["url"]))]
    if plain:
        return not_met(REQ,
                       f"transport: {len(plain)} response(s) carrying personal data travelled over plain HTTP",
                       f"mã hoá đường truyền: {len(plain)} phản hồi chứa dữ liệu cá nhân đi qua HTTP không mã hoá",
                       measured={"check": "transport", "exchanges": [_ex_measured(e) for e in plain[:MAX_LISTED]]})
    https = [e for e in pd if str(e.get("url", "")).lower().startswith("https://")]
    if not https:  # a local test rig: nothing travelled over a network, so encryption cannot be judged
        return not_applicable(REQ, f"transport: all {len(pd)} personal-data response(s) came from this machine "
                              "(loopback, a local test rig): HTTPS is not judged",
                              f"mã hoá đường truyền: cả {len(pd)} phản hồi chứa dữ liệu cá nhân đến từ chính máy này "
                              "(máy thử nghiệm cục bộ): không đánh giá HTTPS",
                              measured={"check": "transport", "count": len(pd), "loopback_only": True})
    return met(REQ, f"transport: {len(https)} personal-data response(s) over HTTPS, none over plain HTTP",
               f"mã hoá đường truyền: {len(https)} phản hồi chứa dữ liệu cá nhân qua HTTPS, không có phản hồi nào qua "
               "HTTP không mã hoá", measured={"check": "transport", "count": len(pd), "https": len(https)})


def judge_no_store(log: dict[str, Any]) -> Observation:
    pd = [e for e in _entries(log) if e.get("personal_data") and e.get("status") is not None
          and 200 <= int(e["status"]) < 300]
    if not pd:
        return no_evidence(REQ, "no-store: no successful response carrying personal data was observed",
                       "no-store: không thấy phản hồi thành công nào chứa dữ liệu cá nhân")
    bad = [e for e in pd if "no-store" not in str((e.get("headers") or {}).get("cache-control", "")).lower()]
    if bad:
        return not_met(REQ,
                       f"no-store: {len(bad)} of {len(pd)} personal-data response(s) lack Cache-Control: no-store",
                       f"no-store: {len(bad)}/{len(pd)} phản hồi chứa dữ liệu cá nhân thiếu Cache-Control: no-store",
                       expected="Cache-Control: no-store",
                       found=f"Cache-Control: {(bad[0].get('headers') or {}).get('cache-control')}",
                       measured={"check": "no-store",
                                 "exchanges": [_ex_measured(e, "Cache-Control") for e in bad[:MAX_LISTED]]})
    return met(REQ, f"no-store: all {len(pd)} personal-data response(s) send Cache-Control: no-store",
                   f"no-store: cả {len(pd)} phản hồi chứa dữ liệu cá nhân đều gửi Cache-Control: no-store",
                   measured={"check": "no-store", "count": len(pd)})


def judge_urls(log: dict[str, Any]) -> Observation:
    entries = _entries(log)
    if not entries:
        return no_evidence(REQ, "personal data in URLs: no request was observed", "dữ liệu cá nhân trong URL: không "
                           "quan sát được yêu cầu nào")
    bad = [e for e in entries if set(e.get("pii_in_url") or []) & set(URL_FORBIDDEN_KEYS)]
    if bad:
        fields = sorted({f for e in bad for f in e["pii_in_url"] if f in URL_FORBIDDEN_KEYS})
        return not_met(REQ,
                       f"personal data in URLs: {', '.join(fields)} found in {len(bad)} requested URL(s)",
                       f"dữ liệu cá nhân trong URL: {', '.join(fields)} xuất hiện trong {len(bad)} URL được yêu cầu",
                       found=bad[0].get("url"),
                       measured={"check": "url", "fields": fields,
                                 "exchanges": [_ex_measured(e) for e in bad[:MAX_LISTED]]})
    answered = [e for e in entries if e.get("status") is not None]
    if not answered:  # only refused or unanswered requests (their URLs may be the suite's own): nothing shown
        return no_evidence(REQ, f"personal data in URLs: none of the {len(entries)} request(s) was answered, so the "
                                "app's own URLs were not seen",
                           f"dữ liệu cá nhân trong URL: không yêu cầu nào trong {len(entries)} yêu cầu được trả lời, "
                           "nên chưa thấy URL của chính ứng dụng", measured={"check": "url", "count": len(entries)})
    return met(REQ, f"personal data in URLs: none in {len(entries)} requested URL(s), {len(answered)} answered",
                   f"dữ liệu cá nhân trong URL: không có trong {len(entries)} URL được yêu cầu, {len(answered)} được "
                   "trả lời", measured={"check": "url", "count": len(entries), "answered": len(answered)})


def judge_auth(log: dict[str, Any]) -> Observation:
    probes = [p for p in log["probes"] if p.get("kind") in ("no_token", "wrong_token")]
    answered = [p for p in probes if p.get("status") is not None]
    if not answered:
        return no_evidence(REQ, "token: no request without a valid token was answered (probe not run or failed)",
                       "mã xác thực: không có yêu cầu thiếu mã hợp lệ nào được trả lời (chưa thăm dò hoặc lỗi)",
                       measured={"check": "auth", "probes": len(probes)})
    ex = log["exchanges"]
    accepted = [p for p in answered if not p.get("refused")]
    if accepted:
        shown = [_ex_measured(ex[p["exchange"]]) if isinstance(p.get("exchange"), int) and p["exchange"] < len(ex)
                 else {"status": p.get("status")} for p in accepted[:MAX_LISTED]]
        return not_met(REQ,
                       f"token: {len(accepted)} of {len(answered)} request(s) without a valid token were not refused "
                       f"with 401/403 (got HTTP {accepted[0].get('status')})",
                       f"mã xác thực: {len(accepted)}/{len(answered)} yêu cầu không có mã hợp lệ không bị từ chối bằng "
                       f"401/403 (nhận HTTP {accepted[0].get('status')})",
                       expected="401 | 403", found=str(accepted[0].get("status")),
                       measured={"check": "auth", "exchanges": shown,
                                 "kinds": sorted({p.get('kind') for p in accepted})})
    return met(REQ, f"token: all {len(answered)} request(s) without a valid token were refused (401/403)",
                   f"mã xác thực: cả {len(answered)} yêu cầu không có mã hợp lệ đều bị từ chối (401/403)",
                   measured={"check": "auth", "count": len(answered)})


def judge_malformed(log: dict[str, Any]) -> Observation:
    probes = [p for p in log["probes"] if p.get("kind") == "malformed_id"]
    answered = [p for p in probes if p.get("status") is not None]
    if not answered:
        return no_evidence(REQ, "errors: no malformed-id probe was answered (probe not run or failed)",
                       "lỗi: không có yêu cầu với mã người dùng sai dạng nào được trả lời (chưa thăm dò hoặc lỗi)",
                       measured={"check": "errors", "probes": len(probes)})
    ex = log["exchanges"]
    problems = []
    for p in answered:
        why = []
        st = int(p["status"])
        if not 400 <= st < 500:
            why.append(f"HTTP {st} instead of 4xx")
        if p.get("traceback"):
            why.append("stack trace in the body")
        if p.get("personal_data"):
            why.append("personal data in the body (" + ", ".join(p["personal_data"]) + ")")
        if why:
            m = _ex_measured(ex[p["exchange"]]) if isinstance(p.get("exchange"), int) and p["exchange"] < len(ex) else {}
            problems.append((p, why, m))
    if problems:
        p, why, m = problems[0]
        return not_met(REQ,
                       f"errors: malformed subject id {p.get('id')!r} answered with " + "; ".join(why),
                       f"lỗi: mã người dùng sai dạng {p.get('id')!r} được trả lời kèm: " + "; ".join(why),
                       expected="4xx", found="; ".join(why),
                       measured={"check": "errors", "exchanges": [q[2] for q in problems[:MAX_LISTED]],
                                 "problems": [q[1] for q in problems[:MAX_LISTED]]})
    non_json = [p.get("id") for p in answered if not p.get("json")]
    return met(REQ,
                   f"errors: {len(answered)} malformed subject id(s) got a clean 4xx"
                   + (f" (not JSON for {non_json})" if non_json else " JSON error"),
                   f"lỗi: {len(answered)} mã người dùng sai dạng nhận phản hồi 4xx gọn gàng"
                   + (f" (không phải JSON với {non_json})" if non_json else " dạng JSON"),
                   measured={"check": "errors", "statuses": [p["status"] for p in answered]})


JUDGES = (judge_transport, judge_no_store, judge_urls, judge_auth, judge_malformed)


def judge_log(log: dict[str, Any]) -> list[Observation]:
    return [j(log) for j in JUDGES]


@check("PRIV-001", scope="package", needs=("capture_log",))
def live_data_handling(ctx: PackageView) -> list[Observation]:
    """Live capture: HTTPS, Cache-Control: no-store, no personal data in URLs, token required, clean errors."""
    if ctx.capture_log_error is not None:
        en, vi = ctx.capture_log_error
        return [unusable(REQ, en, vi, evidence=ctx.capture_log_file)]
    if ctx.capture_log is None:
        return [no_evidence(REQ, "no live capture in this package: data handling is only observed when the suite drives "
                            "the app", "gói không có dữ liệu chụp trực tiếp: việc xử lý dữ liệu chỉ quan sát được khi bộ "
                            "kiểm thử điều khiển ứng dụng")]
    out = judge_log(dict(ctx.capture_log))
    for o in out:
        o.evidence = ctx.capture_log_file
    return out
