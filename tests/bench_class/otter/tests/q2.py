"""q2: firstn: value checks (doctests)."""

OK_FORMAT = True

test = {
    "name": "q2",
    "points": 1,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
                    >>> firstn(5)
                    [0, 1, 2, 3, 4]
                    >>> firstn(0)
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
