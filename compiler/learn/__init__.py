"""Learning policy from what NeuVector saw: lift exports and security events into environment-neutral source."""
