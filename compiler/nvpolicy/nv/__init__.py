"""NeuVector facts and formats: what the controller exports, reports and accepts, in one place each."""
