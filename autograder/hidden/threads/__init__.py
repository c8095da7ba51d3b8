"""The hidden tests of the threads assignment (a package, so pytest imports them
by one name wherever they run). Its questions are in assignments/threads/assignment.toml."""
