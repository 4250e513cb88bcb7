"""Object storage for csvbot: one async interface over Supabase Storage or a local folder.

``build_storage(settings, metrics)`` picks the backend; keys come from :mod:`service.storage.keys`.
"""

from service.storage.base import Storage
from service.storage.factory import build_storage
from service.storage.keys import cleaned_key, input_key, profile_key

__all__ = ["Storage", "build_storage", "cleaned_key", "input_key", "profile_key"]
