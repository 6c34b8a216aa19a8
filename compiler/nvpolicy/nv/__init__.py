"""NeuVector facts as typed data, one home each: what the controller exports, reports and accepts, read from its source."""
