"""Plain data and the log format, below every other layer: errors, the observation log and its records, the
run directory, topology, access, engines, the loopback rule, slots and histograms."""
