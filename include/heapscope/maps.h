/*
 * /proc/PID/maps: the target's mappings (a core file's are built from its
 * program headers and NT_FILE note, see core.h).
 *
 * Parsing is pure (text in, table out) so it is unit-tested without a
 * process.  Paths are kept as the kernel prints them; open them through
 * hs_files_open() (files.h) so files inside a container resolve under
 * /proc/PID/root, and a core's under its sysroot.
 */
#ifndef HEAPSCOPE_MAPS_H
#define HEAPSCOPE_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hs_map_prot {
	HS_MAP_READ = 1 << 0,
	HS_MAP_WRITE = 1 << 1,
	HS_MAP_EXEC = 1 << 2,
	HS_MAP_SHARED = 1 << 3,
};

struct hs_map {
	uint64_t start, end; /* [start, end) in the target */
	uint64_t offset;     /* file offset of `start` */
	unsigned prot;       /* enum hs_map_prot bits */
	uint64_t inode;
	char *path;          /* "" for anonymous; owned by the table */
};

struct hs_maps {
	struct hs_map *items;
	size_t count;
};

/*
 * Parse the text of a maps file.  Malformed lines are an HS_EFORMAT error
 * (the kernel never writes them).  At most `max_maps` entries are accepted.
 */
int hs_maps_parse(const char *text, size_t len, size_t max_maps,
		  struct hs_maps *out);

/* Read and parse /proc/PID/maps. */
int hs_maps_read(int pid, struct hs_maps *out);

void hs_maps_release(struct hs_maps *maps);

/* The mapping containing raddr, or NULL. */
const struct hs_map *hs_maps_find(const struct hs_maps *maps, uint64_t raddr);

/*
 * Load base of the ELF file mapped from `path`: start minus offset of its
 * lowest mapping.  Returns false if the file is not mapped.
 */
bool hs_maps_load_base(const struct hs_maps *maps, const char *path,
		       uint64_t *out);

/* Whether a mapping holds data the heap walk needs copied while paused. */
bool hs_map_is_capturable(const struct hs_map *map);

#endif
