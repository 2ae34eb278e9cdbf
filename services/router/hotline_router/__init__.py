"""Hotline router: the event-sourced, skills-based ACD (see services/router/README.md)."""
