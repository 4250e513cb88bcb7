"""Stand-ins for external services that cannot be reached here.

Each emulator speaks its service's real wire protocol over HTTP on 127.0.0.1, so the real
client library runs unchanged against it. They are not the service (``service/`` never imports
them): ``csvbot simulate`` and the end-to-end tests drive the service through them.
"""
