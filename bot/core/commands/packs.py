"""The `pack` group of `/support-admin`: export the library, import a pack after a preview."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.core.cards import Attachment, Card, CardTone, Choice
from bot.core.content.curation import CurationService
from bot.core.content.packs import ParsedPack, diff_pack, export_pack, pack_to_changes, parse_pack
from bot.core.errors import NotFound, PermissionDenied, ValidationFailed
from bot.core.models import ItemKind, RequestContext
from bot.core.ports import Clock, ContentRepository, NewAuditEntry
from bot.core.support import SupportService

# A previewed import waits this long for its confirmation.
PENDING_IMPORT_LIFETIME = timedelta(minutes=15)
MAX_PREVIEW_LINES = 30


@dataclass(frozen=True, slots=True)
class _PendingImport:
    community_id: str
    actor_id: str
    pack: ParsedPack
    expires_at: datetime


class PackCommands:
    name = "pack"
    verbs = ("export", "import", "apply")

    def __init__(
        self,
        curation: CurationService,
        content: ContentRepository,
        support: SupportService,
        clock: Clock,
    ) -> None:
        self._curation = curation
        self._content = content
        self._support = support
        self._clock = clock
        self._pending: dict[str, _PendingImport] = {}

    def help_lines(self) -> tuple[str, ...]:
        return (
            "pack export [format:yaml|json]  — the whole library as a file",
            "pack import content:<pack text>  — preview a pack's changes (attach the file on "
            "Discord), then confirm",
            "pack apply token:<token>  — apply a previewed import",
        )

    async def handle(self, ctx: RequestContext, verb: str, options: Mapping[str, str]) -> Card:
        await self._curation.moderator_community(ctx)
        if verb == "export":
            requested = options.get("format", "yaml").strip().lower()
            if requested not in ("yaml", "json"):
                raise ValidationFailed([f"format: '{requested}' is not yaml or json."])
            fmt: Literal["yaml", "json"] = "json" if requested == "json" else "yaml"
            library = await self._support.library(ctx.community_id)
            text = export_pack(library, pack_id=ctx.community_id.replace(":", "-"), fmt=fmt)
            filename = f"haven-pack.{fmt}"
            return Card(
                title="Library exported",
                tone=CardTone.SUCCESS,
                body=f"{len(library.messages)} messages and {len(library.resources)} resources.",
                attachment=Attachment(filename=filename, content=text.encode("utf-8")),
            )
        if verb == "import":
            content = options.get("content", "")
            if not content.strip():
                raise ValidationFailed(["content: the pack file is empty."])
            pack, problems = parse_pack(content, options.get("filename", "pack.yaml"))
            errors = [p for p in problems if p.severity == "error"]
            warnings = [str(p) for p in problems if p not in errors]
            if pack is None or errors:
                raise ValidationFailed(
                    [str(p) for p in errors] or ["The pack could not be read."],
                    "Fix these and import again; nothing was changed.",
                )
            library = await self._support.library(ctx.community_id)
            diff = diff_pack(library, pack)
            self._expire()
            token = secrets.token_urlsafe(8)
            self._pending[token] = _PendingImport(
                ctx.community_id, ctx.actor.id, pack, self._clock.now() + PENDING_IMPORT_LIFETIME
            )
            lines = list(diff.summary_lines())
            shown = lines[:MAX_PREVIEW_LINES]
            if len(lines) > MAX_PREVIEW_LINES:
                shown.append(f"… and {len(lines) - MAX_PREVIEW_LINES} more")
            return Card(
                title="Pack import preview",
                body="Nothing has changed yet. Apply to make these changes.",
                lines=tuple(shown + warnings) or ("No changes: the library already matches.",),
                actions=(Choice("Apply", f"/support-admin pack apply token:{token}"),),
                footer="The preview expires in 15 minutes.",
            )
        if verb == "apply":
            token = options.get("token", "").strip()
            self._expire()
            pending = self._pending.get(token)
            if pending is None or pending.community_id != ctx.community_id:
                raise NotFound(
                    "That import preview has expired or does not exist.",
                    "Run pack import again.",
                )
            if pending.actor_id != ctx.actor.id:
                # The person who read the preview is the one who confirms what it changes.
                raise PermissionDenied(
                    "Only the moderator who previewed this import can apply it.",
                    "Run pack import yourself to see the changes first.",
                )
            del self._pending[token]
            await self._content.apply_library_changes(
                ctx.community_id,
                pack_to_changes(pending.pack),
                NewAuditEntry(
                    actor_id=ctx.actor.id,
                    actor_name=ctx.actor.display_name,
                    action="pack.import",
                    item_kind=ItemKind.SETTINGS,
                    item_key="pack",
                    before=None,
                    after={
                        "pack": pending.pack.pack_id,
                        "version": pending.pack.version,
                        "messages": len(pending.pack.messages),
                        "resources": len(pending.pack.resources),
                    },
                ),
            )
            self._support.invalidate(ctx.community_id)
            return Card(
                title="Pack imported",
                tone=CardTone.SUCCESS,
                body=f"Applied {pending.pack.pack_id} {pending.pack.version}.",
            )
        raise ValidationFailed([f"pack {verb}: not a pack command."])

    def _expire(self) -> None:
        now = self._clock.now()
        for token in [t for t, p in self._pending.items() if p.expires_at < now]:
            del self._pending[token]
