# The compiled kernel's signature (ragcli/retrieval/_topk.c).
import numpy as np

def topk(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    term_max: np.ndarray | None,
    terms: np.ndarray,
    weights: np.ndarray,
    k: int,
    id_rank: np.ndarray,
    allowed: np.ndarray | None,
    constant: float,
    out_docs: np.ndarray,
    out_scores: np.ndarray,
) -> int: ...
