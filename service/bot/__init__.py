"""The Telegram side of csvbot (aiogram 3): routers, middlewares and the dispatcher."""
