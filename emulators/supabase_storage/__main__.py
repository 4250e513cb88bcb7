"""``python -m emulators.supabase_storage --port 54321 --key KEY``: the test server on 127.0.0.1."""

from emulators.supabase_storage.server import main

main()
