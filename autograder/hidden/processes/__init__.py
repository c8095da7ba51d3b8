"""The hidden tests of the processes assignment (a package, so pytest imports them
by one name wherever they run). Its questions are in assignments/processes/assignment.toml."""
