/* replay.c: a main() for the fuzz targets without libFuzzer: each file named, or each file in a directory named, goes once through LLVMFuzzerTestOneInput (make check's regression run of every seed corpus and reproducer). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A target checks its invariants by aborting, so an input that breaks one
 * ends this program abnormally, after its name went to stderr. Inputs are
 * read whole into a buffer of exactly their size (as libFuzzer hands them
 * over: no terminator), files in a directory in name order.
 */
static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	uint8_t *buf;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if ((buf = malloc(n > 0 ? (size_t)n : 1)) == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 1;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **names;
		int n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no %s\n", argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) < 0)
				return 2;
			total++;
			continue;
		}
		if ((n = scandir(argv[i], &names, NULL, by_name)) < 0) {
			fprintf(stderr, "replay: cannot list %s\n", argv[i]);
			return 2;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];

			if (names[k]->d_name[0] != '.' &&
			    snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name) < (int)sizeof(path) &&
			    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (run_file(path) < 0)
					return 2;
				total++;
			}
			free(names[k]);
		}
		free(names);
	}
	printf("%d\n", total);
	return 0;
}
