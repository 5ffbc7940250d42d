"""Compute-node side of osc-gpu: read the host, check it, generate config."""
