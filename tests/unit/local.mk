# Check unit tests: each links libosh.a; no root needed.
if HAVE_CHECK
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DTEST_DATA_DIR='"$(abs_top_srcdir)/tests/data"'
UNIT_LDADD = $(OSH_LIBS) $(CHECK_LIBS)
endif
