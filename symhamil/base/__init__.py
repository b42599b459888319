"""Foundations every room stands on: argument checks, safe files, JSON schemas,
formulas from text, and the network's named activations.

Nothing here knows what a trajectory or a potential is.
"""
