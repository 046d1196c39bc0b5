"""Datasets, image I/O and the edge-map normalisation shared by training and inference."""
