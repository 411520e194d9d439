"""Board pictures: stones, the last move, and the policy's move probabilities as a heat map (PNG bytes).

Collect → render: :func:`position_at` replays an SGF to move K, :func:`board_png` draws a board and an
optional probability vector (size² + 1, pass last); nothing here trains or loads a model.
"""

from __future__ import annotations

import numpy as np

from cnnlab.apps.go import sgf
from cnnlab.apps.go.board import BLACK, GTP_LETTERS, WHITE, Board
from cnnlab.errors import ConfigError


def position_at(game: sgf.Game, move: int | None = None) -> tuple[Board, int | None]:
    """The board before move ``move`` (1-based; None: after the last move) and the move then played."""
    plays = game.plays
    k = len(plays) + 1 if move is None else int(move)
    if not 1 <= k <= len(plays) + 1:
        raise ConfigError(f"`--move` must be in 1..{len(plays) + 1} for `{game.name}` ({len(plays)} moves); got {move}")
    if k == len(plays) + 1:
        return _final(game), None
    for i, (b, colour, m) in enumerate(sgf.replay(game), start=1):
        if i == k:
            return b.copy(), (b.n if m is None else m)
    raise AssertionError("unreachable: k is within the game")


def _final(game: sgf.Game) -> Board:
    board = sgf.start_board(game)
    for event in game.moves:
        if event[0] == "setup":
            board.setup(*event[1:])
        else:
            board.play(event[1], event[0])
    return board


def board_from_planes(x: np.ndarray) -> Board:
    """The stones, side to move and last move of a feature-plane stack (what a stored test position keeps)."""
    from cnnlab.apps.go.features import PLANES

    s = x.shape[-1]
    board = Board(s)
    me = BLACK if x[PLANES.index("black_to_play")].any() else WHITE
    opp = WHITE if me == BLACK else BLACK
    own, theirs = x[PLANES.index("own")].ravel(), x[PLANES.index("opponent")].ravel()
    board.cells = [me if own[p] else opp if theirs[p] else 0 for p in range(s * s)]
    board.to_play = me
    last = np.flatnonzero(x[PLANES.index("last_move_1")].ravel())
    if len(last):
        board.history = [(opp, int(last[0]))]
    return board


def board_png(board: Board, probs: np.ndarray | None = None, *, actual: int | None = None, title: str = "",
              top: int = 5) -> bytes:
    """PNG of ``board`` with ``probs`` (size² + 1) as a heat map on the points; the ``top`` moves labelled
    in percent; ``actual`` (the move played next) ringed in blue."""
    from cnnlab.pictures import figure_png, pyplot

    plt = pyplot()
    s = board.size
    fig, ax = plt.subplots(figsize=(5.2, 5.6))
    ax.set_facecolor("#dcb35c")
    fig.patch.set_facecolor("white")
    for i in range(s):
        ax.plot([0, s - 1], [i, i], color="black", lw=0.8, zorder=1)
        ax.plot([i, i], [0, s - 1], color="black", lw=0.8, zorder=1)
    if probs is not None:
        grid = np.asarray(probs[:s * s]).reshape(s, s)
        peak = max(float(grid.max()), 1e-9)
        cmap = plt.get_cmap("inferno_r")
        for p in range(s * s):
            r, c = divmod(p, s)
            v = grid[r, c]
            if board.cells[p] == 0 and v / peak > 0.02:  # the faint tail would only hide the board
                ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, color=cmap(0.1 + 0.9 * v / peak),
                                           alpha=0.3 + 0.6 * v / peak, zorder=2, lw=0))
        order = np.argsort(-np.asarray(probs))[:top]
        for rank, idx in enumerate(order):
            if idx < s * s:
                r, c = divmod(int(idx), s)
                ax.text(c, r, f"{100 * probs[idx]:.0f}", ha="center", va="center", fontsize=9, zorder=5,
                        color="white" if probs[idx] / peak > 0.5 else "black", weight="bold")
    for p, v in enumerate(board.cells):
        if v:
            r, c = divmod(p, s)
            ax.add_patch(plt.Circle((c, r), 0.46, color="black" if v == BLACK else "white", ec="black", lw=0.8,
                                    zorder=3))
    if board.history and board.history[-1][1] is not None:
        r, c = divmod(board.history[-1][1], s)
        ax.add_patch(plt.Circle((c, r), 0.18, fill=False, lw=1.5, zorder=4,
                                ec="white" if board.cells[board.history[-1][1]] == BLACK else "black"))
    if actual is not None and actual < s * s:
        r, c = divmod(actual, s)
        ax.add_patch(plt.Circle((c, r), 0.44, fill=False, ec="#1f5fff", lw=2.5, zorder=6))
    ax.set_xticks(range(s), list(GTP_LETTERS[:s]))
    ax.set_yticks(range(s), [str(i + 1) for i in range(s)])
    ax.set_xlim(-0.6, s - 0.4)
    ax.set_ylim(-0.6, s - 0.4)
    ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(False)
    to_play = "Black" if board.to_play == BLACK else "White"
    sub = f"{to_play} to play"
    if probs is not None:
        sub += f"; pass {100 * float(probs[-1]):.1f}%"
    if actual is not None:
        sub += "; blue ring: the move played" if actual < s * s else "; the move played: pass"
    ax.set_title(f"{title}\n{sub}" if title else sub, fontsize=10)
    return figure_png(fig, dpi=100)


def show(path, *, move: int | None = None, model=None, out=None) -> dict:
    """Draw ``path`` (SGF) before ``move`` with ``model``'s policy (a run folder or module) when given."""
    from cnnlab.io import atomic_write

    game = sgf.read(path)
    board, actual = position_at(game, move)
    probs = None
    if model is not None:
        from cnnlab.apps.go.engine import load_player

        player = load_player(model)
        if player.size != board.size:
            raise ConfigError(f"the model plays {player.size}×{player.size}; `{path}` is {board.size}×{board.size}")
        probs = player.probabilities(board)
    k = move if move is not None else len(game.plays) + 1
    png = board_png(board, probs, actual=actual, title=f"{game.name.split('/')[-1]}, before move {k}")
    if out is not None:
        with atomic_write(out, "wb") as fh:
            fh.write(png)
    top = []
    if probs is not None:
        from cnnlab.apps.go.board import format_vertex

        for idx in np.argsort(-probs)[:5]:
            top.append((format_vertex(None if idx == board.n else int(idx), board.size), float(probs[idx])))
    return {"png": png, "top": top, "actual": actual, "move": k}
