"""A deliberately slow export kind for the worker fault tests (imported by the test and by the worker with
`celery worker -I tests.prod.slow_kind`): 3,000 rows at ~2 ms each, so a run lasts ~6 s with a heartbeat
every 1,000 rows."""

from __future__ import annotations

import time

from exports.registry import register

ROWS = 3000


def slow_rows(user, task, params):
    def rows():
        for i in range(ROWS):
            time.sleep(0.002)
            yield [i, f"第{i}行"]

    yield "慢", [["序号", "内容"]], rows()


register("slow", slow_rows, label="慢导出（测试）", count=lambda user, task, params: ROWS)
