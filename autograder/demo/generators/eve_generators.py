def mygenerator()
    yield 1
