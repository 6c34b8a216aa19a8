"""CLI commands, one module each; only this layer prints."""
