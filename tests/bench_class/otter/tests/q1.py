"""q1: mygenerator: value checks (doctests)."""

OK_FORMAT = True

test = {
    "name": "q1",
    "points": 2,
    "suites": [
        {
            "cases": [
                {
                    "code": r"""
                    >>> list(mygenerator())
                    [1, 2, 3]
                    """,
                    "hidden": False,
                    "locked": False,
                },
                {
                    "code": r"""
                    >>> first = mygenerator()
                    >>> next(first)
                    1
                    >>> list(mygenerator())
                    [1, 2, 3]
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
