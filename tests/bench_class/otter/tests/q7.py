"""q7: chunked: value checks (doctests)."""

OK_FORMAT = True

test = {
    "name": "q7",
    "points": 3,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
                    >>> list(chunked(range(7), 3))
                    [[0, 1, 2], [3, 4, 5], [6]]
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> list(chunked([], 2))
                    []
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> try:
                    ...     list(chunked([1, 2], 0))
                    ... except ValueError:
                    ...     print("ValueError")
                    ValueError
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
