"""The notification service's layout holds: its domain does no I/O and knows no framework (issue 8)."""

from __future__ import annotations

import subprocess
import sys

IO_PACKAGES = ("asyncpg", "fastapi", "starlette", "aiokafka", "httpx", "smtplib")


def test_the_domain_imports_no_io_and_no_framework() -> None:
    # A fresh interpreter: this test process has imported everything already.
    probe = (
        "import sys\n"
        "import notification.domain.applicant, notification.domain.delivery, notification.domain.mail\n"
        "import notification.domain.messages, notification.domain.notification, notification.domain.delivery_history\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({IO_PACKAGES!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
