"""One drill top to bottom, the engine matrix, re-evaluation of a stored run, and the live console."""
