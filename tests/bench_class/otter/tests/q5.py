"""q5: count_evens: value checks (doctests)."""

OK_FORMAT = True

test = {
    "name": "q5",
    "points": 2,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
                    >>> count_evens(10)
                    5
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> count_evens(7)
                    4
                    >>> count_evens(0)
                    0
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
