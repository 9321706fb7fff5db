/*
 * The shim's parser and classifier of /proc/PID/maps, compiled by cgo for
 * the fuzz test: the same sources libplock is built from (procfs.c only for
 * pl_proc_open, which pl_table_read calls; ops.c for pl_seg_classes, which
 * classify.c's pl_has_shlibs calls).
 */
#define _GNU_SOURCE
#include "../../shim/maps.c"
#include "../../shim/classify.c"
#include "../../shim/procfs.c"
#include "../../shim/ops.c"
