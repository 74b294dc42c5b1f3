"""Every number quoted from the paper (Dyer & Gur-Ari, ICLR 2020), with its table or figure.

Tables, figures, notebooks and tests read these; no other module types a paper value.

>>> TABLES["table1"]["tanh"][3], TABLES["table3"]["linear"][1]
(-1.01, -0.03)
>>> SLOPES["fig1a.drift"].value
-1.0
"""

from __future__ import annotations

import dataclasses

#: The fitted width exponents of Tables 1-3 (App. A.2), rows 1..6, per activation.
#: Table 1: Gaussian weights; Table 2: weights uniform on {+1, -1}; Table 3: the variances
#: of the Table 1 integrands.
TABLES: dict[str, dict[str, tuple[float, ...]]] = {
    "table1": {"linear": (-0.02, -0.01, 0.00, -0.98, -2.01, -2.05),
               "relu": (0.003, 0.03, 0.00, -1.03, -2.01, -2.01),
               "tanh": (-0.02, -0.03, 0.00, -1.01, -0.98, -1.99)},
    "table2": {"linear": (0.00, -0.07, 0.0, -1.02, -2.00, -2.05),
               "relu": (0.00, 0.06, 0.0, -1.01, -1.99, -2.01),
               "tanh": (0.02, -0.02, 0.0, -0.97, -2.02, -1.99)},
    "table3": {"linear": (-0.08, -0.03, -1.01, -2.1, -4.02, -4.09),
               "relu": (-0.00, 0.02, -1.02, -2.13, -4.1, -4.14),
               "tanh": (-0.02, -0.05, -0.99, -2.14, -3.05, -4.01)},
}

#: The tables' protocol (App. A.2): the smallest and largest widths, initializations per
#: width, hidden layers and input dimension.
TABLE_WIDTHS: tuple[int, int] = (2**7, 2**13)
TABLE_INITS: int = 1000
TABLE_DEPTH: int = 3
TABLE_INPUT_DIM: int = 4


def table_value(table: str, activation: str, row: int) -> float | None:
    """The paper's exponent of ``table`` row ``row`` (1-based) for ``activation``, or None
    where the paper has no column for it."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}.")
    if isinstance(row, bool) or not isinstance(row, int) or not 1 <= row <= 6:
        raise ValueError(f"row must be 1..6 (the tables' rows), got {row!r}.")
    column = TABLES[table].get(activation)
    return None if column is None else column[row - 1]


@dataclasses.dataclass(frozen=True)
class Slope:
    """A width exponent the paper states for a figure.

    Attributes:
      value: the exponent.
      source: where the paper states it.
    """

    value: float
    source: str


#: Width exponents the paper states for its figures and theorems.
SLOPES: dict[str, Slope] = {
    "fig1a.drift": Slope(-1.0, "Fig. 1a, Lemma 1 / Thm 11: mean |Θ_t - Θ_0| ~ n^-1"),
    "fig1a.jacot_bound": Slope(-0.5, "Fig. 1a: Jacot et al.'s bound n^-1/2"),
    "fig1a.variance_init": Slope(-1.0, "Thm 10: Var[Θ_0] ~ n^-1"),
    "fig1a.variance_drift": Slope(-2.0, "Thm 11: Var[Θ_t - Θ_0] ~ n^-2"),
    "limit.mean_ntk": Slope(-1.0, "Sec. 2, Conjecture 1 applied to E[Θ_0]: E[Θ_0] - Θ_∞ = "
                                  "O(1/n) (the coefficient can vanish for some activations "
                                  "and components)"),
    "e2.remainder": Slope(-1.0, "App. E.2 / Thm 12: one GD step is linear in η up to O(1/n)"),
    "fig9a.deep": Slope(-1.0, "Fig. 9a, eq. 76: top eigenvalues of H - Θ ~ n^-1 (depth >= 2)"),
    "fig9a.shallow": Slope(-0.5, "eq. 76: top eigenvalues of H - Θ ~ n^-1/2 (one hidden "
                                 "layer; the paper observed n^-1)"),
    "fig10.moments": Slope(-1.0, "Fig. 10a, eq. 78-80: (Tr H^m - Tr Θ^m)/Tr Θ^m ~ n^-1"),
    "eq78.trace_b2": Slope(0.0, "eq. 78: Tr B^2 = O(1) at initialization"),
    "fig10.rms_b": Slope(-0.5, "Fig. 10b: RMS eigenvalue of B ~ n^-1/2 (one hidden layer)"),
    "fig11.leading": Slope(-1.0, "Sec. 3.1: the constant-kernel dynamics misses the O(1/n) "
                                 "motion of Θ: its error ~ n^-1"),
    "fig11.corrected": Slope(-2.0, "Sec. 3.1, App. E.4: the O(1/n) dynamics (tower cut at "
                                   "O_4, eq. 89) is exact to O(1/n): its error ~ n^-2"),
}
