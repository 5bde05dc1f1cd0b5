"""Explanations of a trained network's decisions."""
