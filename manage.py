#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line
    from django.db import Error as DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except DatabaseError as exc:
        if "--traceback" in sys.argv:
            raise
        # One line an operator can act on, not a traceback (docs/architecture.md, "Commands").
        cause = (str(exc).strip().splitlines() or [""])[0][:160]
        sys.stderr.write(f"命令失败：数据库出错（{type(exc).__name__}：{cause}），本次事务中的写入已撤销。"
                         f"请检查数据库服务后重试（加 --traceback 查看详情）。\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
