"""Hidden tests: one package per assignment slug. Never shown to students,
never readable from the student process."""
