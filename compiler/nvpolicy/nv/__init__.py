"""NeuVector facts as typed data, one home each: what the controller accepts, read from its source."""
