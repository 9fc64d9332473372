"""One module per load pattern of SEED-FACTS.md's everyday operations, all speaking lean RESP."""
