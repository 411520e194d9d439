"""im2col with stride tricks, and its adjoint col2im: the two halves of every vectorised window op.

A conv or pooling layer looks at the same (KH, KW) window at every output position (oh, ow). Instead of
looping, :func:`windows` makes a read-only *view* of the padded input that is indexed by
(kernel offset, output position) without copying a byte (NumPy ``as_strided``): element
``[n, c, i, j, oh, ow]`` is ``xp[n, c, oh·sh + i·dh, ow·sw + j·dw]``. Reshaping that view to a matrix is
the classic im2col copy (cs231n ``im2col_cython``, Caffe ``im2col_cpu``) after which a convolution is one
matrix product.

:func:`col2im` is the adjoint (transpose) of that gather: every window entry is *added* back to the pixel
it came from. It is what back-propagation needs, because a pixel that sits in several windows receives
the sum of their gradients. It loops over the KH·KW kernel offsets only (9 for a 3×3 kernel), each step
a strided slice-add over the whole batch.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided


def windows(xp: np.ndarray, kernel: Tuple[int, int], stride: Tuple[int, int],
            dilation: Tuple[int, int], out: Tuple[int, int]) -> np.ndarray:
    """Read-only view of all (dilated) windows of a padded batch.

    Args:
        xp: padded input.
        kernel, stride, dilation: (KH, KW), (sh, sw), (dh, dw).
        out: (OH, OW), the number of window positions along each axis.

    Returns:
        ``view[n, c, i, j, oh, ow] == xp[n, c, oh*sh + i*dh, ow*sw + j*dw]`` (no copy).

    Shape:
        xp: (N, C, Hp, Wp) -> (N, C, KH, KW, OH, OW)
    """
    N, C, _, _ = xp.shape
    sN, sC, sH, sW = xp.strides
    (KH, KW), (sh, sw), (dh, dw), (OH, OW) = kernel, stride, dilation, out
    return as_strided(xp, shape=(N, C, KH, KW, OH, OW),
                      strides=(sN, sC, sH * dh, sW * dw, sH * sh, sW * sw), writeable=False)


def col2im(dcols: np.ndarray, padded_hw: Tuple[int, int], stride: Tuple[int, int],
           dilation: Tuple[int, int]) -> np.ndarray:
    """Scatter-add window entries back onto the padded image (the adjoint of :func:`windows`).

    Args:
        dcols: gradient w.r.t. each window entry; the two leading axes are carried through.
        padded_hw: (Hp, Wp) of the padded input.
        stride, dilation: as in :func:`windows`.

    Shape:
        dcols: (A, B, KH, KW, OH, OW) -> (A, B, Hp, Wp)
    """
    A, B, KH, KW, OH, OW = dcols.shape
    (sh, sw), (dh, dw) = stride, dilation
    dxp = np.zeros((A, B) + tuple(padded_hw), dtype=dcols.dtype)
    for i in range(KH):
        for j in range(KW):
            # all output positions whose window has offset (i, j) on pixel (oh*sh + i*dh, ow*sw + j*dw)
            dxp[:, :, i * dh: i * dh + sh * (OH - 1) + 1: sh,
                j * dw: j * dw + sw * (OW - 1) + 1: sw] += dcols[:, :, i, j]
    return dxp
