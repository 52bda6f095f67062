"""Talking to a moderator without being seen asking: requests, replies, blocks, retention.

`rules.py` holds the constants and the kinds of request, `secrets.py` the reply key, the
block tag and the in-memory link and cooldown, `cards.py` what moderators and the person see,
`service.py` the ContactService, and `commands.py` the `/support-contact` lines and the
moderators' `contact` verbs. The design and its threat model are in ARCHITECTURE.md.
"""
