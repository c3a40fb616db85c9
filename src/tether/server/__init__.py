"""The tether server (an optional extra: `pip install 'tether[server]'`): a versioned JSON
API over one database (SQLite or PostgreSQL) and one object store (a folder or S3) that
keeps the sessions users push, for their other machines and their teammates.

`app.create_app` makes the ASGI app; `scope.visible_sessions` is the one rule of who sees
what; `admin` holds what the operator does on the server's machine.
"""
