"""The manifest grants what the code calls: every Slack Web API method used under bot/ is
found in the source and its documented scopes must be in slack-manifest.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# slack_sdk method -> the Web API methods it calls and the bot scopes Slack documents for them
# (one of each tuple suffices: the conversation type decides which history scope is used, so
# the manifest carries all of those the product reads).
WEB_API: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "chat_postMessage": (("chat.postMessage",), (("chat:write",),)),
    "chat_postEphemeral": (("chat.postEphemeral",), (("chat:write",),)),
    "files_info": (("files.info",), (("files:read",),)),
    "conversations_open": (("conversations.open",), (("im:write",),)),
    "conversations_history": (("conversations.history",),
                              (("channels:history",), ("groups:history",), ("im:history",))),
    "conversations_replies": (("conversations.replies",),
                              (("channels:history",), ("groups:history",), ("im:history",))),
    "files_upload_v2": (("files.getUploadURLExternal", "files.completeUploadExternal"),
                        (("files:write",),)),
    "views_open": (("views.open",), ()),  # needs a trigger id, no scope
    "users_info": (("users.info",), (("users:read",),)),
}
# A Slack client is called as `client.NAME(`, `self.client.NAME(` or handed over as
# `self.client.NAME` (to a retry wrapper).
CALL = re.compile(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\b")


def methods_called() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        found |= set(CALL.findall(path.read_text(encoding="utf-8")))
    return found - {"close"}


def test_every_web_api_call_is_covered_by_the_manifest_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    called = methods_called()
    assert {"chat_postMessage", "files_upload_v2", "views_open"} <= called  # the scan works
    unknown = called - set(WEB_API)
    assert not unknown, f"add the scopes of {sorted(unknown)} to WEB_API (and the manifest)"
    missing = {}
    for name in sorted(called):
        _api, needs = WEB_API[name]
        for alternatives in needs:
            if not scopes & set(alternatives):
                missing[name] = alternatives
    assert not missing, f"slack-manifest.yaml lacks scopes: {missing}"


def test_modal_hints_have_no_raw_placeholders() -> None:
    from bot.channels.slack.blocks import intake_modal
    from handlers.dialog import FIELDS

    for lang in ("en", "tr"):
        view = intake_modal([(f, [], False) for f in FIELDS], lang)
        text = repr(view)
        assert not re.search(r"\{[a-z_]+\}", text), lang


def test_manifest_subscribes_what_slack_connect_needs() -> None:
    """Shared channels' messages and mentions, DMs, channel_shared; and their scopes."""
    manifest = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text(encoding="utf-8"))
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups", "message.im", "app_mention",
            "channel_shared"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # message.channels/groups/im need the history scopes, app_mention app_mentions:read,
    # channel_shared channels:read (groups:read for private channels).
    assert {"chat:write", "channels:history", "groups:history", "im:history",
            "app_mentions:read", "channels:read", "groups:read"} <= scopes
