"""Sec. 3, App. D-E, Fig. 1a (notebook 03): the NTK during gradient descent."""
