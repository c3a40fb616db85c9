"""The web view: pages over the archive (`tether web`) and over the team server.

`app.create_app(source, auth)` builds the ASGI app; `source.Source` is the one interface the
pages read through (`local.LocalSource` on this machine), `auth.Auth` who may look.
"""
