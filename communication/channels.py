"""Delivery channels. A channel knows a person's address on it and how to hand one message over.

E-mail (Django's e-mail framework, SMTP from the environment) is implemented; an SMS gateway or a 企业微信
webhook plugs in by subclassing `Channel` and calling `register(...)` (e.g. from an AppConfig.ready()), then
listing its name in settings.COMM_CHANNELS.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection


class ChannelError(Exception):
    """The message could not be handed over now (server down, refused…); the sender retries later."""


@dataclass(frozen=True)
class Outgoing:
    """What a channel hands over: built by the sender from one Delivery row."""

    delivery_id: int
    address: str
    subject: str
    body: str
    unsubscribe_url: str = ""


class Channel(ABC):
    name = ""

    @abstractmethod
    def address_for(self, user) -> str:
        """The user's address on this channel, or "" when the user has none (no delivery is made)."""

    @abstractmethod
    def send(self, message: Outgoing) -> None:
        """Hand over one message; raise ChannelError when it was not accepted."""


class EmailChannel(Channel):
    name = "email"

    def address_for(self, user) -> str:
        return (user.email or "").strip()

    def send(self, message: Outgoing) -> None:
        # A stable Message-ID: should a message ever be handed over twice, mail clients show it once.
        headers = {"Message-ID": f"<delivery-{message.delivery_id}@{settings.COMM_MESSAGE_ID_DOMAIN}>"}
        if message.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email = EmailMessage(subject=message.subject, body=message.body, to=[message.address],
                               from_email=settings.DEFAULT_FROM_EMAIL, headers=headers,
                               connection=get_connection())
        try:
            if email.send() != 1:
                raise ChannelError("邮件服务器未接受该邮件。")
        except ChannelError:
            raise
        except Exception as e:  # noqa: BLE001 - smtplib/socket errors of every kind mean "not sent, try later"
            raise ChannelError(f"{type(e).__name__}: {e}") from e


_CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _CHANNELS[channel.name] = channel


def get(name: str) -> Channel:
    return _CHANNELS[name]


def enabled() -> list[Channel]:
    return [_CHANNELS[n] for n in getattr(settings, "COMM_CHANNELS", ["email"]) if n in _CHANNELS]


register(EmailChannel())
