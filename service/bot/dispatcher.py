"""Build the aiogram ``Dispatcher`` from the process's services (the ``Bot`` is :mod:`service.telegram`)."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.dispatcher.middlewares.error import ErrorsMiddleware

from service.bot import admin, commands, control, errors, jobs, preferences, uploads
from service.bot.middlewares import (
    ActiveUsers,
    FloodLimitMiddleware,
    HandlerNameMiddleware,
    UpdateOutcomeMiddleware,
    UpdateTelemetryMiddleware,
)
from service.deps import Services
from service.i18n.middleware import UserLanguageMiddleware


def build_dispatcher(services: Services) -> Dispatcher:
    dp = Dispatcher()
    dp["services"] = services
    # aiogram registers its ErrorsMiddleware first, outside every middleware added here; moved
    # inside the telemetry middleware, the error handler's reply and log line belong to the
    # update's span (and its trace id), and the handler can set the update's outcome.
    errors_middleware = next(m for m in dp.update.outer_middleware if isinstance(m, ErrorsMiddleware))
    dp.update.outer_middleware.unregister(errors_middleware)
    if services.settings.telemetry == "full":
        dp.update.outer_middleware(UpdateTelemetryMiddleware(services.metrics, ActiveUsers()))
    else:  # TELEMETRY=minimal measures what the telemetry middleware costs
        dp.update.outer_middleware(UpdateOutcomeMiddleware())
    # Outside the error middleware, so that error replies are in the user's language too.
    dp.update.outer_middleware(UserLanguageMiddleware(services))
    dp.update.outer_middleware(errors_middleware)
    dp.message.outer_middleware(
        FloodLimitMiddleware(
            services.metrics,
            max_updates=services.settings.flood_max_updates,
            window=services.settings.flood_window_seconds,
        )
    )
    dp.message.middleware(HandlerNameMiddleware())
    dp.callback_query.middleware(HandlerNameMiddleware())
    # Order matters: commands before the catch-all "anything else" handler in ``commands``.
    # Routers are built per dispatcher: an aiogram router attaches to one parent only, so
    # module-level routers would make a second dispatcher in one process (the simulator's
    # capacity search, tests) fail with "Router is already attached".
    dp.include_routers(
        admin.build_router(),
        jobs.build_router(),
        control.build_router(),
        preferences.build_router(),
        uploads.build_router(),
        commands.build_router(),
        errors.build_router(),
    )
    return dp
