/*
 * A program linked with testdata/ctor.c's library, with 4 MiB of data (bss)
 * that a data lock must count: prints "main" if it runs.
 */
#include <stdio.h>

int ctor_linked(void);

static char big[4 << 20];

int main(void)
{
	big[0] = 1;
	printf("main %d\n", ctor_linked() + big[0] - 1);
	return 0;
}
