"""The words of the suite in Vietnamese and English, written once: (vi, en) pairs for status words, verdicts,
levels, display modes and evidence kinds. Reports, the terminal and check messages take them from here.
"""
from __future__ import annotations

STATUS_WORDS: dict[str, tuple[str, str]] = {
    "pass": ("Đạt", "Pass"),
    "fail": ("Không đạt", "Fail"),
    "warn": ("Cảnh báo", "Warning"),
    "not_applicable": ("Không áp dụng", "Not applicable"),
    "skip": ("Bỏ qua", "Skipped"),
    "review": ("Cần xem xét", "Needs review"),
    "error": ("Lỗi đánh giá", "Error"),
    "not_run": ("Không chạy", "Not run"),
}
STATUS_MEANING: dict[str, tuple[str, str]] = {
    "pass": ("Bằng chứng cho thấy yêu cầu được đáp ứng.", "The evidence shows the requirement is met."),
    "fail": ("Bằng chứng cho thấy yêu cầu không được đáp ứng.", "The evidence shows the requirement is not met."),
    "warn": ("Có điểm đáng lưu ý nhưng không làm yêu cầu không đạt (thường với yêu cầu NÊN).",
             "Something to note that does not fail the requirement (usually a SHOULD requirement)."),
    "not_applicable": ("Yêu cầu không áp dụng cho ứng dụng hoặc dữ liệu này.",
                       "The requirement does not apply to this app or data."),
    "skip": ("Thiếu bằng chứng để đánh giá (ví dụ: không có ảnh chụp chế độ đầy đủ).",
             "Not enough evidence to assess it (for example, no full-mode capture)."),
    "review": ("Không thể tự động kết luận; người đánh giá cần xem xét.",
               "Cannot be decided automatically; an assessor must review it."),
    "error": ("Bằng chứng không dùng được hoặc phép kiểm tra gặp lỗi; chưa có kết luận.",
              "The evidence was unusable or the check itself failed; no conclusion."),
    "not_run": ("Không thuộc các phép kiểm tra được chọn trong lần chạy này.",
                "Not among the checks selected for this run."),
}
VERDICT_WORDS: dict[str, tuple[str, str]] = {
    "conformant": ("PHÙ HỢP", "CONFORMANT"),
    "non-conformant": ("KHÔNG PHÙ HỢP", "NON-CONFORMANT"),
    "incomplete": ("CHƯA ĐỦ CƠ SỞ KẾT LUẬN", "INCOMPLETE"),
    "partial": ("ĐÁNH GIÁ MỘT PHẦN", "PARTIAL"),
}
VERDICT_MEANING: dict[str, tuple[str, str]] = {
    "conformant": ("Mọi yêu cầu BẮT BUỘC đã được đánh giá và không có yêu cầu BẮT BUỘC nào không đạt.",
                   "Every MUST requirement was assessed and none failed."),
    "non-conformant": ("Ít nhất một yêu cầu BẮT BUỘC không đạt.", "At least one MUST requirement failed."),
    "incomplete": ("Không có yêu cầu BẮT BUỘC nào không đạt, nhưng một số yêu cầu BẮT BUỘC chưa được đánh giá "
                   "đầy đủ (bỏ qua, cần xem xét hoặc lỗi). Cần bổ sung bằng chứng hoặc xem xét thủ công.",
                   "No MUST requirement failed, but some MUST requirements could not be fully assessed "
                   "(skipped, needing review or in error). More evidence or a manual review is needed."),
    "partial": ("Chỉ một số phép kiểm tra được chọn chạy; đây không phải là kết luận về sự phù hợp.",
                "Only some checks were selected; this is not a conformance verdict."),
}
LEVEL_WORDS = {"MUST": ("BẮT BUỘC", "MUST"), "SHOULD": ("NÊN", "SHOULD"), "MAY": ("CÓ THỂ", "MAY")}
MODE_WORDS = {"default": ("mặc định (che)", "default (masked)"), "full": ("đầy đủ", "full")}
KIND_WORDS = {"screenshot": ("ảnh chụp màn hình", "screenshot"), "payload": ("nội dung mã (văn bản)", "payload text"),
              "photo": ("ảnh chụp màn hình bằng máy ảnh", "photo of the screen"),
              "recording": ("video quay màn hình", "screen recording")}


def mode_vi(mode: str | None) -> str:
    return MODE_WORDS.get(mode or "", (str(mode), str(mode)))[0]


# results.json waivers.ci_outcome (conformance/waivers.py) in Vietnamese
CI_OUTCOME_VI = {"expected": "như đã biết", "unexpected": "có lỗi chưa được miễn trừ",
                 "stale-waiver": "miễn trừ đã hết hạn hoặc không dùng đến"}
