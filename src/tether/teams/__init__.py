"""Teams: named sets of agents, each a CLI on its own session, run together in tmux."""
