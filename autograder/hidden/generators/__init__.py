"""The hidden tests of the generators assignment (a package, so pytest imports them
by one name wherever they run). Its questions are in assignments/generators/assignment.toml."""
