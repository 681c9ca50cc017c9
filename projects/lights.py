"""Severities and lights (红黄绿灯), shared by the entries' rules (portfolio) and the indicators'
statuses (indicators): one scale of colours for both."""
from django.db import models


class Severity(models.TextChoices):
    RED = "red", "红"
    YELLOW = "yellow", "黄"
    INFO = "info", "提示"


SEVERITY_RANK = {Severity.INFO: 1, Severity.YELLOW: 2, Severity.RED: 3}


class Light(models.TextChoices):
    RED = "red", "红灯"
    YELLOW = "yellow", "黄灯"
    GREEN = "green", "绿灯"
    DONE = "done", "已完成"
