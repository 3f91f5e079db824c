# libFuzzer harnesses (configure --enable-fuzzing CC=clang); owned by the fuzzing work.
