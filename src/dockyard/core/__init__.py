"""Small shared pieces: clock, ids and ARNs, the events bus."""
