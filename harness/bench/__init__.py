"""`drill bench`: performance goals as ratios measured side by side in one run."""
