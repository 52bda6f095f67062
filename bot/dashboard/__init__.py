"""The moderator dashboard: server-rendered pages over the same core services as the chat
commands, mounted on Haven's one HTTP server under /dashboard (bot/web.py)."""
