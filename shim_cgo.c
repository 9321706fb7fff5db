//go:build linux && cgo

/*
 * The shim, compiled by cgo for the Go package: cgo builds only the C files
 * of the package's own directory, so this one includes the shim's sources,
 * the same ones the Makefile builds libplock from.
 */
#define _GNU_SOURCE
#include "shim/sys.c"
#include "shim/maps.c"
#include "shim/classify.c"
#include "shim/procfs.c"
#include "shim/ops.c"
#include "shim/future.c"
#include "shim/engine.c"
#include "shim/plock.c"
#include "shim/segments.c"
#include "shim/status.c"
#include "shim/reason.c"
#include "shim/remote.c"
#include "shim/refusal.c"
#include "shim/seccomp.c"
#include "shim/handoff.c"
