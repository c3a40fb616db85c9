"""The sync client: push this machine's sessions to a tether server, pull others', hand a
session to a teammate. Imported only by the commands that use it (and its `wire` module,
the chunk format, by the server)."""
