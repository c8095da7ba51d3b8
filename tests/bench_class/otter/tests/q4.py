"""q4: evens: value checks (doctests)."""

OK_FORMAT = True

test = {
    "name": "q4",
    "points": 3,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
                    >>> list(evens(10))
                    [0, 2, 4, 6, 8]
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> list(evens(1))
                    [0]
                    >>> list(evens(0))
                    []
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
