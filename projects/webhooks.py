"""Posting group-robot messages (钉钉 / 企业微信 webhooks) from the durable record
(`ChannelMessage`, written by projects/channels.py in the transaction that decided to send).

`send_due` takes each due message under a row lock (`skip_locked`: a redelivered task or a second
worker skips a message being sent), posts it with a short timeout and marks it sent; a failure
(no connection, a timeout, an HTTP error, a reply whose errcode is not 0) counts an attempt and
sets the next one by the outbox's backoff, and after TRACKER_CHANNEL_MAX_ATTEMPTS the message is
kept as 发送失败 (admin, health). Delivery is at least once: a process that dies after the robot
accepted a message and before its mark commits posts it again.
docs/architecture.md, "Channels"."""
import base64
import datetime
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from .changes import backoff
from .models import Channel, ChannelKind, ChannelMessage

# What each robot accepts in one markdown message (企业微信: 4096 bytes; 钉钉: about 20,000).
MAX_BYTES = {ChannelKind.WECOM: 4000, ChannelKind.DINGTALK: 18000}
KEEP_SENT = datetime.timedelta(days=90)
TRUNCATED = "\n\n……（内容过长已截断，详见系统）"


class SendError(Exception):
    """Why a robot did not take a message, in Chinese (stored as the message's last error)."""


def sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(channel, timestamp_ms=None) -> str:
    if channel.kind != ChannelKind.DINGTALK or not channel.secret:
        return channel.webhook_url
    timestamp_ms = timestamp_ms or int(time.time() * 1000)
    joiner = "&" if urllib.parse.urlsplit(channel.webhook_url).query else "?"
    return f"{channel.webhook_url}{joiner}timestamp={timestamp_ms}&sign={sign(channel.secret, timestamp_ms)}"


def fit(text: str, kind: str) -> str:
    limit = MAX_BYTES[kind]
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - len(TRUNCATED.encode())].decode(errors="ignore") + TRUNCATED


def payload(kind: str, title: str, text: str) -> dict:
    body = fit(f"#### {title}\n\n{text}", kind)
    if kind == ChannelKind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": body}}
    return {"msgtype": "markdown", "markdown": {"content": body}}


def post(channel, title: str, text: str) -> None:
    """Post one markdown message; raises SendError unless the robot answered errcode 0."""
    timeout = settings.TRACKER_CHANNEL_TIMEOUT
    request = urllib.request.Request(
        signed_url(channel), data=json.dumps(payload(channel.kind, title, text), ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) only: Channel.clean
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendError(f"机器人服务器返回 HTTP {exc.code}") from exc
    except TimeoutError as exc:
        raise SendError(f"机器人服务器 {timeout} 秒内未答复") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise SendError(f"机器人服务器 {timeout} 秒内未答复") from exc
        raise SendError(f"无法连接机器人服务器（{reason}）") from exc
    try:
        reply = json.loads(raw.decode("utf-8"))
        code, message = reply.get("errcode"), reply.get("errmsg", "")
    except (ValueError, AttributeError) as exc:
        raise SendError("机器人服务器的答复不是预期的 JSON") from exc
    if code != 0:
        raise SendError(f"机器人拒收：errcode {code}，{message}")


def send_due(now=None) -> int:
    """Post the messages that are due, oldest first, at most TRACKER_CHANNEL_PER_MINUTE per robot
    within a minute (the robots refuse more: 钉钉 and 企业微信 take 20 a minute); the rest wait for
    the next run, without counting an attempt. Returns how many were sent. Safe to run twice at once."""
    now = now or timezone.now()
    per_minute = settings.TRACKER_CHANNEL_PER_MINUTE
    oldest_first = Window(RowNumber(), partition_by=[F("channel_id")], order_by=[F("created_at"), F("pk")])
    due = list(ChannelMessage.objects.filter(state=ChannelMessage.State.PENDING)
               .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
               .annotate(place=oldest_first).filter(place__lte=per_minute)
               .order_by("created_at", "pk").values_list("pk", "channel_id"))
    posted_lately = dict(ChannelMessage.objects.filter(
        channel_id__in={c for _, c in due}, last_posted_at__gt=now - datetime.timedelta(minutes=1))
        .values_list("channel_id").annotate(n=Count("pk")))
    budget = {c: per_minute - posted_lately.get(c, 0) for _, c in due}
    sent = 0
    for pk, channel_id in due:
        if budget[channel_id] <= 0:
            continue
        with transaction.atomic():
            message = (ChannelMessage.objects.select_for_update(skip_locked=True, of=("self",))
                       .select_related("channel").filter(pk=pk, state=ChannelMessage.State.PENDING).first())
            if message is None:  # sent meanwhile, or being sent by another worker
                continue
            budget[channel_id] -= 1  # a refused post counts against the robot's limit too
            sent += deliver(message, now)
    return sent


def deliver(message, now) -> int:
    """Post one locked message and record the outcome at `now` (the caller's transaction)."""
    channel = message.channel
    message.last_posted_at = now
    try:
        if not channel.active:
            raise SendError("群机器人已停用")
        post(channel, message.title, message.text)
    except SendError as exc:
        error = str(exc)
        message.attempts += 1
        message.last_error = error
        message.next_attempt_at = now + backoff(message.attempts)
        if message.attempts >= settings.TRACKER_CHANNEL_MAX_ATTEMPTS or not channel.active:
            message.state, message.next_attempt_at = ChannelMessage.State.FAILED, None
        message.save(update_fields=["attempts", "last_error", "next_attempt_at", "state", "last_posted_at"])
        Channel.objects.filter(pk=channel.pk).update(last_error=error, last_error_at=now)
        return 0
    message.state, message.sent_at = ChannelMessage.State.SENT, now
    message.save(update_fields=["state", "sent_at", "last_posted_at"])
    Channel.objects.filter(pk=channel.pk).update(last_sent_at=now)
    return 1


def prune(now=None) -> int:
    """Forget messages sent more than KEEP_SENT ago (failed ones stay until a planner deals with them)."""
    now = now or timezone.now()
    deleted, _ = ChannelMessage.objects.filter(state=ChannelMessage.State.SENT, sent_at__lt=now - KEEP_SENT).delete()
    return deleted


def failed_count() -> int:
    """Messages given up on after TRACKER_CHANNEL_MAX_ATTEMPTS (shown in the admin and on /health/)."""
    return ChannelMessage.objects.filter(state=ChannelMessage.State.FAILED).count()
