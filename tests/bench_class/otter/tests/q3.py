"""q3: firstn_generator: value checks (doctests)."""

OK_FORMAT = True

test = {
    "name": "q3",
    "points": 4,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
                    >>> list(firstn_generator(5))
                    [0, 1, 2, 3, 4]
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> list(firstn_generator(0))
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
