"""Finite-width theory at initialization: the 1/n recursions of the kernel, the four-point
vertex and the NTK (mean, its 1/n correction, variance), and the correlator predictions
E[C](n) = c_0 + c_1 / n they give."""
