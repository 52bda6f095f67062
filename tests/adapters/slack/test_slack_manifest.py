"""config/slack-manifest.yaml: it parses, and declares every command, scope and event the
adapter uses (and no scope it does not use)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml

from bot.adapters.slack import listeners, render

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = ROOT / "config" / "slack-manifest.yaml"
ADAPTER = ROOT / "bot" / "adapters" / "slack"

# Web API methods the adapter may call, and the bot scope each needs (docs.slack.dev methods).
SCOPE_FOR_METHOD = {
    "auth_test": None,
    "views_open": None,
    "apps_connections_open": None,  # the app-level token's connections:write
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    # The private fallback when a response_url is used up or expired.
    "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write",
    "users_info": "users:read",
    "usergroups_users_list": "usergroups:read",
    "usergroups_list": "usergroups:read",
    "conversations_info": "channels:read",
    "files_upload_v2": "files:write",
}
# Scopes needed with another: private channels for conversations.info.
ALSO_NEEDED = {"channels:read": "groups:read"}


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text("utf-8"))
    return data


def _called_methods() -> set[str]:
    """Every `<something>client.<method>(...)` call in the adapter's source."""
    found: set[str] = set()
    for path in ADAPTER.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = node.func.value
                name = (
                    target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                )
                if re.search(r"client$", name):
                    found.add(node.func.attr)
    return found


def test_manifest_declares_the_commands_with_escaping() -> None:
    commands = {c["command"]: c for c in _manifest()["features"]["slash_commands"]}
    assert set(commands) == {
        listeners.SUPPORT_COMMAND,
        listeners.ADMIN_COMMAND,
        render.CONTACT_LINE,
    }
    assert all(command["should_escape"] is True for command in commands.values())
    assert all(len(command["description"]) <= 100 for command in commands.values())


def test_every_method_the_code_calls_has_its_scope_and_no_scope_is_spare() -> None:
    called = _called_methods()
    unknown = called - set(SCOPE_FOR_METHOD)
    assert not unknown, f"add the scope these need to SCOPE_FOR_METHOD: {unknown}"
    needed = {"commands"}
    for method in called:
        scope = SCOPE_FOR_METHOD[method]
        if scope:
            needed.add(scope)
            if scope in ALSO_NEEDED:
                needed.add(ALSO_NEEDED[scope])
    declared = set(_manifest()["oauth_config"]["scopes"]["bot"])
    assert declared == needed


def test_every_scope_says_why() -> None:
    lines = MANIFEST.read_text("utf-8").splitlines()
    scope_lines = [i for i, line in enumerate(lines) if re.match(r"^\s+- [a-z]+:?[a-z]*$", line)]
    for index in scope_lines:
        if lines[index].strip().startswith("- /"):
            continue
        assert lines[index - 1].strip().startswith("#"), f"no comment above {lines[index]}"


def test_socket_mode_interactivity_and_events() -> None:
    settings = _manifest()["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_uninstalled",
        "tokens_revoked",
    }


def test_the_oauth_install_asks_for_the_manifests_bot_scopes() -> None:
    from bot.adapters.slack.oauth import BOT_SCOPES

    assert list(BOT_SCOPES) == _manifest()["oauth_config"]["scopes"]["bot"]
