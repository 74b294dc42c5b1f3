"""Finite-width theory at initialization: the 1/n recursions of the kernel, its correction
and the four-point vertex, and the correlator predictions E[C](n) = c_0 + c_1 / n they give."""
