"""NeuVector's domain facts, each in one place: pure, typed, importing nothing else of nvpolicy.

Rules, diff, learn, render and emit read NeuVector's behaviour from here, so that two features
never disagree about what a port string, a group name or an address means. Each fact cites the
controller source (neuvector/neuvector at 1b8b707) it was read from; see
../shared/reference/CONTROLLER-CHECKS.md for the check ids (S1, S36, G1, X2, …).
"""
