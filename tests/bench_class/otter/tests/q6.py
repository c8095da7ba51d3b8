"""q6: take: value checks (doctests)."""

OK_FORMAT = True

test = {
    "name": "q6",
    "points": 3,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
                    >>> list(take(3, range(10)))
                    [0, 1, 2]
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> list(take(5, [1, 2]))
                    [1, 2]
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> import itertools
                    >>> list(take(3, itertools.count()))
                    [0, 1, 2]
                    """,
                    "hidden": False,
                    "locked": False,
                },
            ],
            "scored": True,
            "setup": "",
            "teardown": "",
            "type": "doctest",
        }
    ],
}
