"""Use cases over ports: ingress facts, agent commands, timers, reconcile after replay."""
