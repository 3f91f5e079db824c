# Fuzzing: four harnesses (fuzz/fuzz_{state,config,detect,plan}.c), one
# LLVMFuzzerTestOneInput each.
#
# Every build: fuzz/replay_NAME links a harness with a plain main()
# (fuzz/replay.c) and is a test: `make check` replays every seed in
# fuzz/corpus/NAME and every past finding in fuzz/regress/NAME, with gcc,
# and under --enable-sanitizers with ASan/UBSan.
#
# ./configure --enable-fuzzing CC=clang: everything is instrumented for
# libFuzzer (-fsanitize=fuzzer-no-link plus ASan/UBSan, also libosh.a), the
# libFuzzer binaries fuzz/fuzz_NAME are built, and `make fuzz` runs each
# for FUZZ_SECONDS (fuzz/run.sh does all of it in build-fuzz/).
FUZZ_NAMES = state config detect plan
FUZZ_SECONDS = 60
FUZZ_COMMON = fuzz/fuzz.h fuzz/fuzzutil.c

FUZZ_REPLAY = fuzz/replay_state fuzz/replay_config fuzz/replay_detect fuzz/replay_plan
check_PROGRAMS += $(FUZZ_REPLAY)
TESTS += $(FUZZ_REPLAY)
FUZZ_REPLAY_CFLAGS = $(AM_CFLAGS) -DFUZZ_SRCDIR='"$(abs_top_srcdir)/fuzz"'

fuzz_replay_state_SOURCES = fuzz/fuzz_state.c fuzz/replay.c $(FUZZ_COMMON)
fuzz_replay_state_CFLAGS = $(FUZZ_REPLAY_CFLAGS) -DFUZZ_NAME='"state"'
fuzz_replay_state_LDADD = $(OSH_LIBS)
fuzz_replay_config_SOURCES = fuzz/fuzz_config.c fuzz/replay.c $(FUZZ_COMMON)
fuzz_replay_config_CFLAGS = $(FUZZ_REPLAY_CFLAGS) -DFUZZ_NAME='"config"'
fuzz_replay_config_LDADD = $(OSH_LIBS)
fuzz_replay_detect_SOURCES = fuzz/fuzz_detect.c fuzz/replay.c $(FUZZ_COMMON)
fuzz_replay_detect_CFLAGS = $(FUZZ_REPLAY_CFLAGS) -DFUZZ_NAME='"detect"'
fuzz_replay_detect_LDADD = $(OSH_LIBS)
fuzz_replay_plan_SOURCES = fuzz/fuzz_plan.c fuzz/replay.c $(FUZZ_COMMON)
fuzz_replay_plan_CFLAGS = $(FUZZ_REPLAY_CFLAGS) -DFUZZ_NAME='"plan"'
fuzz_replay_plan_LDADD = $(OSH_LIBS)

EXTRA_DIST += fuzz/corpus fuzz/regress fuzz/json.dict fuzz/detect.dict \
	fuzz/run.sh fuzz/fuzz-one.sh fuzz/oot-build.sh fuzz/make-corpus.sh fuzz/make-seeds.py \
	fuzz/README.md

if ENABLE_FUZZING
# libFuzzer's coverage and the sanitizers in every object, the library's
# too; the sanitizer runtimes at every link (the hook and the unit tests
# are then instrumented as well, which is fine in a fuzzing build).
FUZZ_INSTRUMENT = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -g
AM_CFLAGS += $(FUZZ_INSTRUMENT)
AM_LDFLAGS += -fsanitize=address,undefined

FUZZ_BINS = fuzz/fuzz_state fuzz/fuzz_config fuzz/fuzz_detect fuzz/fuzz_plan
noinst_PROGRAMS = $(FUZZ_BINS)
FUZZ_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
FUZZ_LINKFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer

fuzz_fuzz_state_SOURCES = fuzz/fuzz_state.c $(FUZZ_COMMON)
fuzz_fuzz_state_CFLAGS = $(FUZZ_CFLAGS)
fuzz_fuzz_state_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_fuzz_state_LDADD = $(OSH_LIBS)
fuzz_fuzz_config_SOURCES = fuzz/fuzz_config.c $(FUZZ_COMMON)
fuzz_fuzz_config_CFLAGS = $(FUZZ_CFLAGS)
fuzz_fuzz_config_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_fuzz_config_LDADD = $(OSH_LIBS)
fuzz_fuzz_detect_SOURCES = fuzz/fuzz_detect.c $(FUZZ_COMMON)
fuzz_fuzz_detect_CFLAGS = $(FUZZ_CFLAGS)
fuzz_fuzz_detect_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_fuzz_detect_LDADD = $(OSH_LIBS)
fuzz_fuzz_plan_SOURCES = fuzz/fuzz_plan.c $(FUZZ_COMMON)
fuzz_fuzz_plan_CFLAGS = $(FUZZ_CFLAGS)
fuzz_fuzz_plan_LDFLAGS = $(FUZZ_LINKFLAGS)
fuzz_fuzz_plan_LDADD = $(OSH_LIBS)

# make fuzz [FUZZ_SECONDS=60] [FUZZ_NAMES="state plan"]: each harness in
# turn, one process (bounded CPU); the grown corpus stays in fuzz/work/,
# crashes in fuzz/artifacts/.  Fails if any harness found something.
fuzz: $(FUZZ_NAMES:%=fuzz/fuzz_%)
	@rc=0; for n in $(FUZZ_NAMES); do \
	    $(SHELL) $(srcdir)/fuzz/fuzz-one.sh ./fuzz/fuzz_$$n $$n $(FUZZ_SECONDS) \
	        $(srcdir)/fuzz fuzz || rc=1; \
	done; exit $$rc
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzzing CC=clang (or run fuzz/run.sh)" >&2; exit 1
endif
.PHONY: fuzz
