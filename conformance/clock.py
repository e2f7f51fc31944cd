"""The suite's clock: dates and times are Vietnam's (Asia/Ho_Chi_Minh), where the decision applies and the
assessments are filed. One place, so the validation date and the report's time of issue agree."""
from __future__ import annotations

import datetime as dt

TIMEZONE = "Asia/Ho_Chi_Minh"


def vietnam_tz() -> dt.tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(TIMEZONE)
    except Exception:  # noqa: BLE001 - no tz database: Vietnam has kept UTC+7 without daylight saving since 1975
        return dt.timezone(dt.timedelta(hours=7), "ICT")


def today() -> dt.date:
    """Today in Vietnam (the default validation date)."""
    return dt.datetime.now(vietnam_tz()).date()
