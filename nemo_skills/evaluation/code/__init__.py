"""Code benchmarks: finding the program in an answer, and the test programs run in the sandbox."""
