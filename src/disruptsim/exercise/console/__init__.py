"""The exercise's local web console: facilitator's and participants' views (``docs/exercise.md``)."""

from .app import ConsoleConfig, create_app, serve

__all__ = ["ConsoleConfig", "create_app", "serve"]
