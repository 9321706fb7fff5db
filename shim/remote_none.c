/* Provisional: no ptrace yet. */
#include <errno.h>
#include "internal.h"
int pl_remote_attach(pid_t pid, int at_entry, struct pl_remote **r)
{
	(void)pid; (void)at_entry; *r = NULL;
	return ENOSYS;
}
long pl_remote_syscall(struct pl_remote *r, long nr, const long args[6])
{
	(void)r; (void)nr; (void)args;
	return -ENOSYS;
}
void pl_remote_detach(struct pl_remote *r) { (void)r; }
