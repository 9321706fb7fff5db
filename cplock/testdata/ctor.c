/*
 * A shared library whose constructor writes the file $CPLOCK_CTOR_FILE: for
 * cplock's test that a program whose lock is refused runs nothing at all,
 * not even its libraries' constructors (follow_test.go).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void ran(void)
{
	const char *path = getenv("CPLOCK_CTOR_FILE");
	int fd;

	if (path != NULL && (fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0) {
		(void)write(fd, "ran\n", 4);
		close(fd);
	}
}

int ctor_linked(void)
{
	return 1;
}
