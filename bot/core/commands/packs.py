"""The `pack` group of `/support-admin`: export the library, import a pack after a preview."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.core.cards import Attachment, Card, CardTone, Choice
from bot.core.commands.verbs import Arguments, Option, OptionKind, Verb, VerbTable
from bot.core.content.curation import CurationService
from bot.core.content.packs import MAX_PACK_BYTES, ParsedPack, diff_pack, export_pack, parse_pack
from bot.core.errors import NotFound, PermissionDenied, ValidationFailed
from bot.core.models import ItemKind, RequestContext
from bot.core.ports import Clock
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
    # The library's item versions the preview was computed from.
    seen: dict[tuple[ItemKind, str], int]


class PackCommands:
    def __init__(
        self,
        curation: CurationService,
        support: SupportService,
        clock: Clock,
    ) -> None:
        self._curation = curation
        self._support = support
        self._clock = clock
        self._pending: dict[str, _PendingImport] = {}
        self.table = VerbTable(
            "pack",
            "Export or import the library",
            (
                Verb(
                    "export",
                    "the whole library as a file",
                    self._export,
                    options=(
                        Option(
                            "format",
                            "yaml or json",
                            OptionKind.CHOICE,
                            max_length=4,
                            choices=("yaml", "json"),
                            placeholder="yaml|json",
                        ),
                        Option(
                            "file",
                            "Where to write it (console only)",
                            OptionKind.SAVE_AS,
                            max_length=4096,
                            placeholder="library.yaml",
                        ),
                        Option(
                            "own",
                            "Only your own additions and edits, not Haven's shipped items",
                            OptionKind.YES_NO,
                            max_length=5,
                            placeholder="yes|no",
                        ),
                    ),
                    positional=("file",),
                ),
                Verb(
                    "import",
                    "preview a pack's changes, then confirm",
                    self._import,
                    options=(
                        Option(
                            "file",
                            "A pack exported from Haven (.yaml or .json)",
                            OptionKind.FILE,
                            max_length=4096,
                            placeholder="my-pack.yaml",
                        ),
                        Option(
                            "content",
                            "The pack's text, pasted",
                            OptionKind.PARAGRAPH,
                            max_length=MAX_PACK_BYTES,
                        ),
                        Option("filename", "The file's name", max_length=255, hidden=True),
                    ),
                    positional=("file",),
                ),
                Verb(
                    "apply",
                    "apply a previewed import",
                    self._apply,
                    options=(Option("token", "From the preview", required=True, max_length=32),),
                    hidden=True,
                ),
            ),
        )

    async def _export(self, ctx: RequestContext, args: Arguments) -> Card:
        await self._curation.moderator_community(ctx)
        fmt: Literal["yaml", "json"] = "json" if args.get("format") == "json" else "yaml"
        own = args.get("own") == "yes"  # checked and normalised by the verb table
        library = (
            await self._curation.own_library(ctx)
            if own
            else await self._support.library(ctx.community_id)
        )
        text = export_pack(library, pack_id=ctx.community_id.replace(":", "-"), fmt=fmt)
        return Card(
            title="Your own layer exported" if own else "Library exported",
            tone=CardTone.SUCCESS,
            body=f"{len(library.messages)} messages and {len(library.resources)} resources.",
            attachment=Attachment(
                filename=args.get("file") or f"haven-pack.{fmt}", content=text.encode("utf-8")
            ),
        )

    async def _import(self, ctx: RequestContext, args: Arguments) -> Card:
        await self._curation.moderator_community(ctx)
        content = args.values.get("content", "")
        if not content.strip():
            raise ValidationFailed(
                ["content: the pack file is empty or was not given."],
                "Attach the file on Discord, give file:PATH in the console, or paste it as "
                'content:"..." on Slack.',
            )
        pack, problems = parse_pack(content, args.get("filename") or "pack.yaml")
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
            ctx.community_id,
            ctx.actor.id,
            pack,
            self._clock.now() + PENDING_IMPORT_LIFETIME,
            self._curation.versions((*library.messages, *library.resources)),
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

    async def _apply(self, ctx: RequestContext, args: Arguments) -> Card:
        token = args.text("token")
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
        summary = await self._curation.import_pack(ctx, pending.pack, pending.seen)
        return Card(
            title="Pack imported",
            tone=CardTone.SUCCESS,
            body=f"Applied {pending.pack.pack_id} {pending.pack.version}: {summary.sentence()}",
            footer="Each change is in `history` and can be undone item by item.",
        )

    def _expire(self) -> None:
        now = self._clock.now()
        for token in [t for t, p in self._pending.items() if p.expires_at < now]:
            del self._pending[token]
