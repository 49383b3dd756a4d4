"""KeptBoards: a board made once per key, never an older one kept over a newer, the least
recently viewed dropped first; one request makes a board while the others wait for it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from medval.core.declarations import MetricDeclaration
from medval.server.services.kept_boards import BoardKey, KeptBoards, PooledBoard

AUROC = MetricDeclaration(name="auroc", label="AUROC")


def _board() -> PooledBoard:
    return PooledBoard(declared=[AUROC], owner_entries=[], others_entries=[])


class Maker:
    """Makes boards, counts how many it made and keeps what each was given as earlier."""

    def __init__(self) -> None:
        self.made = 0
        self.earlier: list[PooledBoard | None] = []

    def __call__(self, earlier: PooledBoard | None) -> PooledBoard:
        self.made += 1
        self.earlier.append(earlier)
        return _board()


def test_a_board_is_made_once_per_key() -> None:
    kept, make = KeptBoards(), Maker()
    key = BoardKey(3, 3, (AUROC,))
    first = kept.board(1, key, make)
    assert kept.board(1, BoardKey(3, 3, (AUROC,)), make) is first and make.made == 1
    # Another revision, min_sites or declaration: made again, from the one kept before.
    made = [first]
    for changed in (BoardKey(4, 3, (AUROC,)), BoardKey(4, 2, (AUROC,)), BoardKey(4, 2, ())):
        made.append(kept.board(1, changed, make))
        assert made[-1] is not made[-2]
    assert make.made == 4 and make.earlier == [None, *made[:-1]]
    kept.board(2, key, make)  # another benchmark's board is its own
    assert make.made == 5 and make.earlier[-1] is None


def test_an_older_board_is_not_kept_over_a_newer() -> None:
    kept, make = KeptBoards(), Maker()
    newer = kept.board(1, BoardKey(5, 3, ()), make)
    older = kept.board(1, BoardKey(4, 3, ()), make)  # a request that read revision 4
    assert older is not newer and make.made == 2
    assert kept.board(1, BoardKey(5, 3, ()), make) is newer and make.made == 2


def test_the_least_recently_viewed_is_dropped_first() -> None:
    kept, make = KeptBoards(size=2), Maker()
    key = BoardKey(1, 3, ())
    kept.board(1, key, make)
    kept.board(2, key, make)
    kept.board(1, key, make)  # viewed again: 2 is now the least recent
    kept.board(3, key, make)
    assert make.made == 3
    kept.board(1, key, make)
    assert make.made == 3
    kept.board(2, key, make)
    assert make.made == 4


def test_requests_at_once_wait_for_one_board() -> None:
    kept, started, release = KeptBoards(), threading.Event(), threading.Event()
    made: list[PooledBoard] = []

    def make(earlier: PooledBoard | None) -> PooledBoard:
        started.set()
        release.wait(10)
        made.append(_board())
        return made[-1]

    key = BoardKey(1, 3, ())
    with ThreadPoolExecutor(4) as pool:
        views = [pool.submit(kept.board, 1, key, make) for _ in range(4)]
        assert started.wait(10)
        release.set()
        boards = [view.result(10) for view in views]
    assert len(made) == 1 and all(board is made[0] for board in boards)
