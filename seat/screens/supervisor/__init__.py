"""The supervisor's screens: the wallboard, an agent's queue, the trends."""
