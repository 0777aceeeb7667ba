"""The platform's home time zone. Working-time arithmetic lives in `workcal`."""

from __future__ import annotations

from workcal import zone

# Kazakhstan is one zone (UTC+5) since 2024-03-01; `zone` checks the host's database against the pinned tzdata.
ALMATY = zone("Asia/Almaty")
