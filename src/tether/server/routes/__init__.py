"""The API's routes, one module per resource; each takes `Authenticated` (tether.server.auth)
unless it is public on purpose (`/healthz`, enrolment, which a one-time code authorises)."""
