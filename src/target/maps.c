#include "heapscope/maps.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"
#include "heapscope/procfs.h"

#define MAPS_MAX_BYTES (64u << 20)
#define MAPS_MAX_ENTRIES 1000000

/* Parse "start-end perms offset dev inode   path" of one line. */
static int parse_line(const char *line, size_t len, struct hs_map *map)
{
	char perms[5] = {0};
	unsigned long long start, end, offset, inode;
	int pathpos = 0;
	char *copy = strndup(line, len);

	if (!copy)
		return HS_ENOMEM;
	if (sscanf(copy, "%llx-%llx %4s %llx %*x:%*x %llu %n", &start, &end, perms,
		   &offset, &inode, &pathpos) < 5 ||
	    start > end || strlen(perms) != 4) {
		free(copy);
		return HS_EFORMAT;
	}
	map->start = start;
	map->end = end;
	map->offset = offset;
	map->inode = inode;
	map->prot = (perms[0] == 'r' ? HS_MAP_READ : 0) |
		    (perms[1] == 'w' ? HS_MAP_WRITE : 0) |
		    (perms[2] == 'x' ? HS_MAP_EXEC : 0) |
		    (perms[3] == 's' ? HS_MAP_SHARED : 0);
	map->path = strdup(pathpos > 0 && (size_t)pathpos <= len ? copy + pathpos : "");
	free(copy);
	if (!map->path)
		return HS_ENOMEM;
	/* " (deleted)" stays part of the path: such files cannot be opened */
	return 0;
}

int hs_maps_parse(const char *text, size_t len, size_t max_maps,
		  struct hs_maps *out)
{
	struct hs_maps maps = {0};
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t linelen = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int err;

		lineno++;
		if (linelen == 0) {
			p += 1;
			continue;
		}
		if (maps.count == max_maps) {
			hs_maps_release(&maps);
			return hs_error(HS_EFORMAT, "more than %zu mappings", max_maps);
		}
		if (maps.count == cap) {
			struct hs_map *grown;

			cap = cap ? cap * 2 : 256;
			grown = realloc(maps.items, cap * sizeof(*grown));
			if (!grown) {
				hs_maps_release(&maps);
				return hs_error(HS_ENOMEM, "parsing maps");
			}
			maps.items = grown;
		}
		err = parse_line(p, linelen, &maps.items[maps.count]);
		if (err < 0) {
			hs_maps_release(&maps);
			return hs_error(err, "malformed maps line %zu", lineno);
		}
		maps.count++;
		p += linelen + 1;
	}
	*out = maps;
	return 0;
}

int hs_maps_read(int pid, struct hs_maps *out)
{
	char path[64], *text;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if ((err = hs_procfs_read_file(path, MAPS_MAX_BYTES, &text, &len)) < 0)
		return err;
	err = hs_maps_parse(text, len, MAPS_MAX_ENTRIES, out);
	free(text);
	return err;
}

void hs_maps_release(struct hs_maps *maps)
{
	for (size_t i = 0; i < maps->count; i++)
		free(maps->items[i].path);
	free(maps->items);
	maps->items = NULL;
	maps->count = 0;
}

const struct hs_map *hs_maps_find(const struct hs_maps *maps, uint64_t raddr)
{
	size_t lo = 0, hi = maps->count;

	/* the kernel lists mappings in address order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct hs_map *m = &maps->items[mid];

		if (raddr < m->start)
			hi = mid;
		else if (raddr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

bool hs_maps_load_base(const struct hs_maps *maps, const char *path,
		       uint64_t *out)
{
	for (size_t i = 0; i < maps->count; i++) {
		const struct hs_map *m = &maps->items[i];

		if (strcmp(m->path, path) == 0) {
			*out = m->start - m->offset;
			return true;
		}
	}
	return false;
}

bool hs_map_is_capturable(const struct hs_map *map)
{
	if (!(map->prot & HS_MAP_READ) || !(map->prot & HS_MAP_WRITE))
		return false;
	/* 3.11/3.12 reach the current frame through a _PyCFrame on the C
	 * stack, so [stack] is copied too; vvar/vsyscall cannot be read. */
	if (map->path[0] == '[')
		return strncmp(map->path, "[heap]", 6) == 0 ||
		       strncmp(map->path, "[stack", 6) == 0 ||
		       strncmp(map->path, "[anon", 5) == 0;
	/* device mappings (GPU, /dev/mem...) must never be touched */
	if (strncmp(map->path, "/dev/", 5) == 0 && strncmp(map->path, "/dev/zero", 9) != 0)
		return false;
	return true;
}
