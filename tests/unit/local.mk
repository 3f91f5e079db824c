# Check unit tests: each links libosh.a; no root needed.
#
# UNIT_LIBS, not UNIT_LDADD: automake -Werror refuses a variable ending in
# _LDADD that names no program ("possible typo").
if HAVE_CHECK
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DTEST_DATA_DIR='"$(abs_top_srcdir)/tests/data"'
UNIT_LIBS = $(OSH_LIBS) $(CHECK_LIBS)

UNIT_TESTS = \
	tests/unit/check_json \
	tests/unit/check_spec \
	tests/unit/check_detect \
	tests/unit/check_plan \
	tests/unit/check_predict \
	tests/unit/check_misc \
	tests/unit/check_copyup \
	tests/unit/check_runtime \
	tests/unit/check_hostlimits
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

tests_unit_check_json_SOURCES = tests/unit/check_json.c tests/unit/testutil.h
tests_unit_check_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_json_LDADD = $(UNIT_LIBS)

tests_unit_check_spec_SOURCES = tests/unit/check_spec.c tests/unit/testutil.h
tests_unit_check_spec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_spec_LDADD = $(UNIT_LIBS)

tests_unit_check_detect_SOURCES = tests/unit/check_detect.c tests/unit/testutil.h
tests_unit_check_detect_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_detect_LDADD = $(UNIT_LIBS)

tests_unit_check_plan_SOURCES = tests/unit/check_plan.c tests/unit/testutil.h
tests_unit_check_plan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_plan_LDADD = $(UNIT_LIBS)

tests_unit_check_predict_SOURCES = tests/unit/check_predict.c tests/unit/testutil.h
tests_unit_check_predict_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_predict_LDADD = $(UNIT_LIBS)

tests_unit_check_misc_SOURCES = tests/unit/check_misc.c tests/unit/testutil.h
tests_unit_check_misc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_misc_LDADD = $(UNIT_LIBS)

tests_unit_check_copyup_SOURCES = tests/unit/check_copyup.c tests/unit/testutil.h
tests_unit_check_copyup_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_copyup_LDADD = $(UNIT_LIBS)

tests_unit_check_runtime_SOURCES = tests/unit/check_runtime.c tests/unit/testutil.h
tests_unit_check_runtime_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_runtime_LDADD = $(UNIT_LIBS)

tests_unit_check_hostlimits_SOURCES = tests/unit/check_hostlimits.c tests/unit/testutil.h
tests_unit_check_hostlimits_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_hostlimits_LDADD = $(UNIT_LIBS)
endif

# Shipped whether or not Check is installed (distcheck builds the tests).
EXTRA_DIST += \
	tests/data/cgroup-hybrid.txt \
	tests/data/cgroup-v2.txt \
	tests/data/config-podman.json \
	tests/data/config-runc.json \
	tests/data/mountinfo-hybrid.txt \
	tests/data/mountinfo-v1.txt \
	tests/data/mountinfo-v2.txt \
	tests/data/seccomp-docker-default.json \
	tests/data/state-crun.json \
	tests/data/state-podman.json \
	tests/data/state-runc.json

# The hook's own mountinfo parser against libmount (a test-only dependency).
if HAVE_CHECK
if HAVE_LIBMOUNT
check_PROGRAMS += tests/unit/check_mountinfo
TESTS += tests/unit/check_mountinfo
tests_unit_check_mountinfo_SOURCES = tests/unit/check_mountinfo.c tests/unit/testutil.h
tests_unit_check_mountinfo_CFLAGS = $(UNIT_CFLAGS) $(MOUNT_CFLAGS)
tests_unit_check_mountinfo_LDADD = $(UNIT_LIBS) $(MOUNT_LIBS)
endif
endif
