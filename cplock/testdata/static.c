/* A statically linked program, which "cplock run" must refuse. */
int main(void)
{
	return 0;
}
