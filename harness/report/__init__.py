"""The run report: one versioned model, several renderers."""
