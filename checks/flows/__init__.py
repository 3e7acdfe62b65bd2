"""Check-based flows: templates, the creator's work, cadence, runs and their engine."""
